import type { Argv } from 'yargs';
import { EXIT_CLEAN } from '../output.js';
import { runDir, withDirFlags, type DirArgs } from './dir.js';

export const DEFAULT_BASELINE = '.leakhound-baseline.json';

/**
 * `leakhound baseline`: records today's findings as known, so that `--baseline FILE` later reports
 * (and fails on) only new ones. The file holds fingerprints and redacted previews, never secrets.
 */
export const baselineCommand = {
  command: 'baseline [paths..]',
  describe: `Write a baseline of current findings (JSON, default ${DEFAULT_BASELINE}) for later --baseline runs`,
  builder: (y: Argv) => withDirFlags(y),
  handler: async (args: DirArgs): Promise<void> => {
    const output = args.output ?? DEFAULT_BASELINE;
    await runDir({ ...args, format: 'json', output, 'show-secrets': false, baseline: undefined, exclude: [...args.exclude, output] } as DirArgs);
    process.exitCode = EXIT_CLEAN;
  },
};
