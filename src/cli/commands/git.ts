import type { Argv } from 'yargs';
import { UserError } from '../../core/errors.js';
import { withScanFlags, type OutputArgs } from '../output.js';

interface GitArgs extends OutputArgs {
  repo?: string;
  staged: boolean;
  range?: string;
  incremental: boolean;
  'state-file'?: string;
}

export const gitCommand = {
  command: 'git [repo]',
  describe: 'Scan a git repository: its whole history (default), the staged changes, or a commit range',
  builder: (y: Argv) =>
    withScanFlags(y)
      .positional('repo', { type: 'string', describe: 'Repository (working tree, .git directory or bare repository; default: current directory)' })
      .option('staged', { type: 'boolean', default: false, describe: 'Scan what is staged for the next commit (pre-commit hook); report only secrets it adds' })
      .option('range', { type: 'string', describe: 'Scan the commits BASE..HEAD; report only secrets not already in BASE (CI)' })
      .option('incremental', { type: 'boolean', default: false, describe: 'Skip blobs scanned by an earlier --incremental run (state in .leakhound/git-state)' })
      .option('state-file', { type: 'string', describe: 'State file for --incremental (default: .leakhound/git-state in the repository)' }),
  handler: async (args: GitArgs): Promise<void> => {
    process.exitCode = await runGit(args);
  },
};

export async function runGit(args: GitArgs): Promise<number> {
  const modes = [args.staged && '--staged', args.range !== undefined && '--range', args.incremental && '--incremental'].filter(Boolean);
  if (modes.length > 1) throw new UserError(`${modes.join(' and ')} cannot be combined`);
  if (args['state-file'] !== undefined && !args.incremental) throw new UserError('--state-file needs --incremental');
  if (args.range !== undefined && args.range.trim() === '') throw new UserError('--range needs BASE..HEAD');
  if (args.staged && (args.state !== undefined || (args.sink?.length ?? 0) > 0)) {
    throw new UserError('--state and --sink do not apply to --staged: a blocked commit has not left the machine');
  }
  // Each mode loads only what it needs: the pre-commit path stays lean.
  const { openRepo } = await import('../../sources/git/repo.js');
  const repo = openRepo(args.repo);
  if (args.staged) {
    if (repo.bare) throw new UserError(`${args.repo ?? '.'}: a bare repository has no index; --staged needs a working tree`);
    const { runStaged } = await import('../../sources/git/staged.js');
    return runStaged(args, repo);
  }
  if (args.range !== undefined) {
    const { runRange } = await import('../../sources/git/range.js');
    return runRange(args, repo, args.range);
  }
  const { runHistory } = await import('../../sources/git/history-scan.js');
  return runHistory(args, repo, { incremental: args.incremental, ...(args['state-file'] !== undefined ? { stateFile: args['state-file'] } : {}) });
}
