import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../../core/errors.js';

/**
 * Running the system git on an untrusted repository. Nothing the scanned repository configures may
 * run: no hooks, fsmonitor, filters, textconv, external diff, pager, signature program, credential
 * helper or network transport. Global and system config are not read at all, so the user's own
 * aliases or helpers cannot interfere either.
 */
/**
 * Paths that never exist (creating them needs root): no global config, no hooks. Not /dev/null: a
 * `git config --global` run elsewhere with GIT_CONFIG_GLOBAL=/dev/null replaces the device with a
 * regular file, and git then reads whatever was last written there as config.
 */
const NO_FILE = '/nonexistent/leakhound-none';

export const HARDENED_CONFIG: readonly string[] = [
  'core.fsmonitor=false',
  `core.hooksPath=${NO_FILE}`,
  'core.pager=cat',
  'core.sshCommand=false',
  'core.askPass=',
  'credential.helper=',
  'protocol.allow=never',
  'diff.external=',
  'log.showSignature=false',
  'gpg.program=false',
  'gpg.ssh.program=false',
  'gpg.x509.program=false',
  'core.untrackedCache=false',
  'submodule.recurse=false',
  // We run no command that executes repository config, so ownership does not matter (CI containers).
  'safe.directory=*',
];

/** Variables from the caller's environment that point git elsewhere or make it run something. */
const DROPPED_ENV = /^(GIT_.*|EDITOR|VISUAL|PAGER|SSH_ASKPASS)$/;
/** Kept when the command runs inside git (a hook): the index and repository git chose for us. */
const HOOK_ENV = new Set(['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR']);

export interface GitTarget {
  /** Directory git runs in (`-C`). */
  cwd: string;
  /** Keep GIT_DIR, GIT_INDEX_FILE... from our environment (no explicit repository was named: a hook). */
  inheritRepoEnv: boolean;
}

let cachedEnv: { inherit: boolean; env: NodeJS.ProcessEnv } | undefined;

export function gitEnv(inheritRepoEnv: boolean): NodeJS.ProcessEnv {
  if (cachedEnv?.inherit === inheritRepoEnv) return cachedEnv.env;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!DROPPED_ENV.test(k) || (inheritRepoEnv && HOOK_ENV.has(k))) env[k] = v;
  }
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: NO_FILE,
    GIT_TERMINAL_PROMPT: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_NO_LAZY_FETCH: '1',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
    GIT_ASKPASS: 'false',
    GIT_PROTOCOL_FROM_USER: '0',
    LC_ALL: 'C',
  });
  cachedEnv = { inherit: inheritRepoEnv, env };
  return env;
}

export function gitArgv(target: GitTarget, args: readonly string[]): string[] {
  const out: string[] = ['-C', target.cwd];
  for (const c of HARDENED_CONFIG) out.push('-c', c);
  out.push(...args);
  return out;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function spawnFailure(e: NodeJS.ErrnoException): UserError {
  if (e.code === 'ENOENT') return new UserError('git is not installed or not on PATH (leakhound git needs the git command)');
  return new UserError(`cannot run git: ${e.message}`);
}

/** Runs git to completion; small outputs only (metadata, lists). */
export function gitSync(target: GitTarget, args: readonly string[], input?: string | Buffer): GitResult {
  const r = spawnSync('git', gitArgv(target, args), {
    env: gitEnv(target.inheritRepoEnv),
    input,
    maxBuffer: 1024 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (r.error) throw spawnFailure(r.error as NodeJS.ErrnoException);
  return { code: r.status ?? -1, stdout: r.stdout as Buffer, stderr: String(r.stderr) };
}

/** Like gitSync but a non-zero exit is an error naming git's first message line. */
export function gitOk(target: GitTarget, args: readonly string[], what: string, input?: string | Buffer): Buffer {
  const r = gitSync(target, args, input);
  if (r.code !== 0) throw new UserError(`${what}: ${firstLine(r.stderr) || `git exited with code ${r.code}`}`);
  return r.stdout;
}

export function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? '').replace(/^(fatal|error): /, '').trim();
}

export type GitChild = ChildProcessByStdio<Writable, Readable, Readable>;

/** A long-running git with streamed stdout; stderr is kept (bounded) for the error message. */
export class GitProcess {
  readonly child: GitChild;
  private stderrText = '';
  private readonly exited: Promise<number>;
  private spawnError: Error | undefined;

  constructor(target: GitTarget, args: readonly string[]) {
    this.child = spawn('git', gitArgv(target, args), {
      env: gitEnv(target.inheritRepoEnv),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => {
      if (this.stderrText.length < 8192) this.stderrText += d;
    });
    // A git that exits early closes its stdin; writing to it must not crash us.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.spawnError = e;
        resolve(-1);
      });
      this.child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
    });
  }

  get stdout(): Readable {
    return this.child.stdout;
  }

  get stdin(): Writable {
    return this.child.stdin;
  }

  /** Waits for git to exit; throws a one-line UserError when it failed. */
  async done(what: string): Promise<void> {
    const code = await this.exited;
    if (this.spawnError) throw spawnFailure(this.spawnError as NodeJS.ErrnoException);
    if (code !== 0) throw new UserError(`${what}: ${firstLine(this.stderrText) || `git exited with code ${code}`}`);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
