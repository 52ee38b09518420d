import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export interface BenchResult {
  name: string;
  bytes: number;
  seconds: number;
  /** The same bytes processed by a reference (raw read, ripgrep, git cat-file), for the ratio. */
  reference?: { name: string; bytes: number; seconds: number };
  /** Peak RSS of the leakhound process in MB, when measured. */
  peakMB?: number;
  note?: string;
}

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const cli = join(repoRoot, 'bin', 'leakhound.js');

/** Runs a command, returns wall seconds; the best of `repeat` runs to reduce noise. */
export function timeCommand(cmd: string, args: string[], opts: { repeat?: number; env?: NodeJS.ProcessEnv; cwd?: string; okCodes?: number[] } = {}): { seconds: number; stdout: string; stderr: string } {
  let best = Infinity;
  let last = { stdout: '', stderr: '' };
  for (let i = 0; i < (opts.repeat ?? 1); i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...opts.env }, cwd: opts.cwd });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error) throw r.error;
    if (!(opts.okCodes ?? [0, 1]).includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
    best = Math.min(best, s);
    last = { stdout: r.stdout, stderr: r.stderr };
  }
  return { seconds: best, ...last };
}

export function peakMB(stderr: string): number | undefined {
  const m = /maxRSS=(\d+)KB/.exec(stderr);
  return m ? Math.round(Number(m[1]) / 1024) : undefined;
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
