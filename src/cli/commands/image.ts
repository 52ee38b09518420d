import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { UserError } from '../../core/errors.js';
import { runScan } from '../../scan/run.js';
import { ImageScan } from '../../sources/image/scan.js';
import { DEFAULT_STATE_PATH } from '../../sources/image/state.js';
import { withScanFlags, type OutputArgs } from '../output.js';

interface ImageArgs extends OutputArgs {
  paths: string[];
  platform: string[];
  incremental: boolean;
  'image-state': string;
  'archive-depth': number;
}

export const imageCommand = {
  command: 'image <paths..>',
  describe: 'Scan container images: docker save tarballs, OCI layouts (directory or tar)',
  builder: (y: Argv) =>
    withScanFlags(y)
      .positional('paths', { type: 'string', array: true, demandOption: true, describe: 'docker save tarballs, OCI layout directories or tars (gzip/zstd ok)' })
      .option('platform', { type: 'string', array: true, default: [] as string[], describe: 'Only these platforms of a multi-platform index (os/arch[/variant]); default: all' })
      .option('incremental', { type: 'boolean', default: false, describe: 'Skip layers scanned by earlier runs (recorded in --image-state)' })
      .option('image-state', { type: 'string', default: DEFAULT_STATE_PATH, describe: 'Where --incremental records scanned layer digests' })
      .option('archive-depth', { type: 'number', default: 3, describe: 'How deep to open zip/jar/war/tar archives inside layers (0: never)' }),
  handler: async (args: ImageArgs): Promise<void> => {
    process.exitCode = await runImage(args);
  },
};

export async function runImage(args: ImageArgs): Promise<number> {
  const depth = args['archive-depth'];
  if (!Number.isInteger(depth) || depth < 0 || depth > 10) throw new UserError(`--archive-depth must be an integer from 0 to 10, got ${String(depth)}`);
  for (const p of args.platform) {
    if (!/^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/i.test(p)) throw new UserError(`--platform must look like os/arch or os/arch/variant, got '${p}'`);
  }
  const scan = new ImageScan({
    platforms: args.platform,
    archiveDepth: depth,
    ...(args.incremental ? { statePath: resolve(args['image-state']) } : {}),
  });
  return runScan(args, {
    source: 'image',
    baseDir: process.cwd(),
    produce: (ctx) => scan.produce(ctx, args.paths),
    finalize: (findings) => scan.finalize(findings),
  });
}
