import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { TestRepo } from './helpers/git-repo.js';
import { githubToken } from './helpers/secrets.js';

interface JsonReport {
  summary: { findings: number; filesScanned: number };
  findings: { secret?: string }[];
}

let tmp: string;
let cleanup: () => void;
beforeAll(() => ({ dir: tmp, cleanup } = tempDir('leakhound-incr-')));
afterAll(() => cleanup());

describe('leakhound git --incremental', () => {
  it('scans only blobs earlier runs did not; the state file holds no secret and stays out of git status', () => {
    const repo = new TestRepo(join(tmp, 'repo'));
    const a = githubToken();
    const b = githubToken();
    repo.commit('one', { 'a.txt': `${a}\n`, 'clean.txt': 'hello\n' });
    const run = () => {
      const r = runCli(['git', repo.dir, '--incremental', '-f', 'json', '--show-secrets']);
      return { ...r, report: JSON.parse(r.stdout) as JsonReport };
    };
    const first = run();
    expect(first.code).toBe(1);
    expect(first.report.findings.map((f) => f.secret)).toEqual([a]);
    expect(first.report.summary.filesScanned).toBe(2);
    expect(first.stderr).toMatch(/incremental: 2 new blobs scanned, 0 already scanned/);
    const state = join(repo.dir, '.leakhound', 'git-state');
    expect(existsSync(state)).toBe(true);
    expect(readFileSync(state).includes(Buffer.from(a))).toBe(false);
    expect(repo.git(['status', '--porcelain'])).toBe('');

    const again = run();
    expect(again.code).toBe(0);
    expect(again.report.summary.filesScanned).toBe(0);
    expect(again.stderr).toMatch(/incremental: 0 new blobs scanned, 2 already scanned/);

    repo.commit('two', { 'b.txt': `${b}\n` });
    const third = run();
    expect(third.code).toBe(1);
    expect(third.report.findings.map((f) => f.secret)).toEqual([b]);
    expect(third.report.summary.filesScanned).toBe(1);
  });

  it('--state-file names another file; changed rules or allow lists mean a full rescan', () => {
    const repo = new TestRepo(join(tmp, 'repo2'));
    const a = githubToken();
    repo.commit('one', { 'a.txt': `${a}\n` });
    const state = join(tmp, 'nightly.state');
    const cfg = join(tmp, 'cfg.yaml');
    writeFileSync(cfg, 'allow:\n  regexes: ["^nothing$"]\n');
    const run = (extra: string[] = []) => runCli(['git', repo.dir, '--incremental', '--state-file', state, '-f', 'json', ...extra]);
    expect(run().code).toBe(1);
    expect(existsSync(state)).toBe(true);
    expect(existsSync(join(repo.dir, '.leakhound'))).toBe(false);
    expect(run().code).toBe(0);
    const changed = run(['--config', cfg]);
    expect(changed.stderr).toContain('rules or allow lists changed');
    expect(changed.code).toBe(1);
  });

  it('a file that is not a state file is never overwritten: one line, exit 2', () => {
    const repo = new TestRepo(join(tmp, 'repo3'));
    repo.commit('one', { 'a.txt': 'x\n' });
    const other = join(tmp, 'precious.txt');
    writeFileSync(other, 'important data\n');
    const r = runCli(['git', repo.dir, '--incremental', '--state-file', other]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`leakhound: error: ${other} is not a leakhound git state file (delete it or name another with --state-file)`);
    expect(readFileSync(other, 'utf8')).toBe('important data\n');
    const misuse = runCli(['git', repo.dir, '--state-file', other]);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain('--state-file needs --incremental');
  });
});
