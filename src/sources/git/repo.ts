import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { firstLine, gitSync, type GitTarget } from './exec.js';

/** A repository as git sees it, found from a path the user named (or the working directory). */
export interface Repo {
  target: GitTarget;
  /** Absolute git directory (for a linked worktree: its private one). */
  gitDir: string;
  /** Directory shared by all worktrees: objects, refs, shallow. */
  commonDir: string;
  bare: boolean;
  shallow: boolean;
  /** Working tree root; undefined in a bare repository. */
  workTree: string | undefined;
  /** Directory report paths are relative to: the working tree, else the git directory. */
  baseDir: string;
  objectFormat: 'sha1' | 'sha256';
  /** Hex length of an object id (40 or 64). */
  oidLength: number;
}

/**
 * Opens the repository at `path` (default: where we run, honouring GIT_DIR/GIT_INDEX_FILE when run
 * from a git hook). Anything that is not a repository is one clear error line, exit 2.
 */
export function openRepo(path: string | undefined): Repo {
  const cwd = resolve(path ?? '.');
  if (path !== undefined) {
    let st;
    try {
      st = statSync(cwd);
    } catch {
      throw new UserError(`${path}: no such file or directory`);
    }
    if (!st.isDirectory()) throw new UserError(`${path}: not a directory (name a git repository)`);
  }
  const target: GitTarget = { cwd, inheritRepoEnv: path === undefined };
  const r = gitSync(target, [
    'rev-parse',
    '--absolute-git-dir',
    '--git-common-dir',
    '--is-bare-repository',
    '--is-shallow-repository',
    '--show-object-format',
    '--is-inside-work-tree',
    '--show-toplevel',
  ]);
  const lines = r.stdout.toString('utf8').split('\n');
  if (lines.length < 6 || !lines[0]) {
    const why = firstLine(r.stderr);
    if (/not a git repository/i.test(why)) throw new UserError(`${path ?? cwd}: not a git repository`);
    throw new UserError(`${path ?? cwd}: cannot open as a git repository: ${why || `git exited with code ${r.code}`}`);
  }
  const gitDir = lines[0]!;
  const commonDir = resolve(cwd, lines[1]!);
  const bare = lines[2] === 'true';
  const shallow = lines[3] === 'true' || existsSync(join(commonDir, 'shallow'));
  const objectFormat = lines[4] === 'sha256' ? 'sha256' : 'sha1';
  const inside = lines[5] === 'true';
  const workTree = !bare && inside && lines[6] ? lines[6] : undefined;
  return {
    // In a hook GIT_DIR may be relative to where we were started: stay there.
    target: target.inheritRepoEnv ? target : { cwd: workTree ?? gitDir, inheritRepoEnv: false },
    gitDir,
    commonDir,
    bare,
    shallow,
    workTree,
    baseDir: workTree ?? gitDir,
    objectFormat,
    oidLength: objectFormat === 'sha256' ? 64 : 40,
  };
}
