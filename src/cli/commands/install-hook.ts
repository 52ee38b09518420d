import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { UserError } from '../../core/errors.js';
import { packageRoot } from '../../version.js';

interface InstallHookArgs {
  repo?: string;
  force: boolean;
}

/** Marks hooks we wrote: ours may be rewritten without --force, anyone else's may not. */
export const HOOK_MARKER = '# leakhound pre-commit hook';

export const installHookCommand = {
  command: 'install-hook [repo]',
  describe: 'Install a git pre-commit hook that runs `leakhound git --staged`',
  builder: (y: Argv) =>
    y
      .positional('repo', { type: 'string', describe: 'Repository (default: current directory)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing pre-commit hook' }),
  handler: (args: InstallHookArgs): void => {
    const path = installHook(args.repo ?? '.', args.force);
    process.stdout.write(`Installed ${path}: commits that add a secret are blocked (skip once with git commit --no-verify).\n`);
  },
};

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function hookScript(): string {
  const cli = join(packageRoot, 'bin', 'leakhound.js');
  return [
    '#!/bin/sh',
    HOOK_MARKER,
    '# Blocks a commit that adds a secret. Skip once: git commit --no-verify',
    `cli=${shellQuote(cli)}`,
    `node=${shellQuote(process.execPath)}`,
    'if [ -f "$cli" ]; then',
    '  [ -x "$node" ] || node=node',
    '  exec "$node" "$cli" git --staged',
    'fi',
    'exec leakhound git --staged',
    '',
  ].join('\n');
}

/** Where git looks for hooks in this repository (honours core.hooksPath, worktrees). */
function hooksDir(repo: string): string {
  const cwd = resolve(repo);
  if (!existsSync(cwd)) throw new UserError(`${repo}: no such directory`);
  // The user's own repository and git config: core.hooksPath from any level counts here.
  const r = spawnSync('git', ['-C', cwd, 'rev-parse', '--git-path', 'hooks'], { encoding: 'utf8' });
  if (r.error) throw new UserError('git is not installed or not on PATH');
  if (r.status !== 0) {
    throw new UserError(/not a git repository/i.test(r.stderr) ? `${repo}: not a git repository` : `${repo}: ${r.stderr.trim().split('\n')[0]}`);
  }
  const dir = r.stdout.trim();
  return isAbsolute(dir) ? dir : join(cwd, dir);
}

export function installHook(repo: string, force: boolean): string {
  const dir = hooksDir(repo);
  const path = join(dir, 'pre-commit');
  if (existsSync(path)) {
    const current = readFileSync(path, 'utf8');
    if (!current.includes(HOOK_MARKER) && !force) {
      throw new UserError(`${path} already exists and was not written by leakhound; use --force to replace it, or call \`leakhound git --staged\` from it`);
    }
  }
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.leakhound-${process.pid}`;
    writeFileSync(tmp, hookScript(), { mode: 0o755 });
    chmodSync(tmp, 0o755);
    renameSync(tmp, path);
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return path;
}

