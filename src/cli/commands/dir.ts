import type { Argv } from 'yargs';
import { relative, sep } from 'node:path';
import { scanItems, type SourceItem } from '../../scan/context.js';
import { runScan } from '../../scan/run.js';
import { displayBase, walkFiles, type FileEntry } from '../../sources/dir/walk.js';
import { withScanFlags, type OutputArgs } from '../output.js';

export interface DirArgs extends OutputArgs {
  paths: string[];
  ignore: boolean;
  include: string[];
  exclude: string[];
}

/** Flags of a working-tree scan, shared by `dir` and `baseline`. */
export function withDirFlags(y: Argv) {
  return withScanFlags(y)
      .positional('paths', { type: 'string', array: true, default: ['.'], describe: 'Files or directories' })
      .option('ignore', { type: 'boolean', default: true, describe: 'Honour .gitignore and .leakhoundignore (--no-ignore to scan everything)' })
      .option('include', { type: 'string', array: true, default: [] as string[], describe: 'Only scan paths matching these globs' })
      .option('exclude', { type: 'string', array: true, default: [] as string[], describe: 'Skip paths matching these globs' });
}

export const dirCommand = {
  command: 'dir [paths..]',
  describe: 'Scan files on disk (default: the current directory)',
  builder: (y: Argv) => withDirFlags(y),
  handler: async (args: DirArgs): Promise<void> => {
    process.exitCode = await runDir(args);
  },
};

export async function runDir(args: DirArgs): Promise<number> {
  const cwd = process.cwd();
  const paths = args.paths.length > 0 ? args.paths : ['.'];
  const baseDir = displayBase(paths, cwd);
  return runScan(args, {
    source: 'dir',
    baseDir,
    produce: (ctx) =>
      scanItems(
        ctx,
        toItems(
          walkFiles(
            paths,
            cwd,
            { useIgnoreFiles: args.ignore, include: args.include, exclude: [...args.exclude, ...ctx.config.allowPaths, ...ownConfig(baseDir, ctx.config.file)] },
            ctx.stats,
            ctx.warn,
          ),
        ),
      ),
  });
}

function* toItems(files: Iterable<FileEntry>): Generator<SourceItem> {
  for (const f of files) yield { task: { kind: 'file', absPath: f.absPath }, origin: { path: f.path } };
}

/** The config in use holds rule examples, not leaks: it is never scanned itself. */
function ownConfig(baseDir: string, file: string | undefined): string[] {
  if (file === undefined) return [];
  const rel = relative(baseDir, file);
  return rel.startsWith('..') ? [] : [rel.split(sep).join('/')];
}
