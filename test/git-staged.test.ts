import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, runCli, tempDir } from './helpers/cli.js';
import { TestRepo } from './helpers/git-repo.js';
import { githubToken } from './helpers/secrets.js';

interface JsonReport {
  source: string;
  findings: { ruleId: string; secret?: string; locations: { path: string; line: number; column: number }[] }[];
}

let tmp: string;
let cleanup: () => void;
beforeAll(() => ({ dir: tmp, cleanup } = tempDir('leakhound-staged-')));
afterAll(() => cleanup());

const staged = (repo: TestRepo, extra: string[] = []) => runCli(['git', '--staged', ...extra], { cwd: repo.dir });
const json = (stdout: string) => JSON.parse(stdout) as JsonReport;

describe('leakhound git --staged', () => {
  it('before the first commit: a staged secret blocks with file, line, rule and how to allow a false positive', () => {
    const repo = new TestRepo(join(tmp, 'first'));
    const t = githubToken();
    repo.write('app/config.py', `DEBUG = True\nTOKEN = "${t}"\n`);
    repo.git(['add', '-A']);
    const r = staged(repo);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('app/config.py:2:10');
    expect(r.stdout).toContain('[github-pat-classic]');
    expect(r.stdout).not.toContain(t);
    expect(r.stderr).toContain('commit blocked');
    expect(r.stderr).toContain('leakhound:allow');
    expect(r.stderr).toContain('allow: fingerprints:');
    expect(r.stderr).toContain('--no-verify');
  });

  it('reports only what the commit adds: secrets already in HEAD, renamed or unstaged are not reported', () => {
    const repo = new TestRepo(join(tmp, 'adds'));
    const old = githubToken();
    repo.commit('base', { 'a.env': `A=${old}\n`, 'b.txt': 'plain\n' });
    // unrelated edit to a file that already holds a secret, and a rename of it
    repo.write('a.env', `A=${old}\nB=2\n`);
    repo.git(['add', '-A']);
    repo.git(['mv', 'a.env', 'moved.env']);
    let r = staged(repo, ['-f', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(json(r.stdout).findings).toHaveLength(0);
    // a new secret next to the old one: only the new one
    const added = githubToken();
    repo.write('b.txt', `plain\nkey: ${added}\n`);
    repo.git(['add', 'b.txt']);
    // a secret in the working tree that is not staged is not part of the commit
    repo.write('notes.txt', `${githubToken()}\n`);
    r = staged(repo, ['-f', 'json', '--show-secrets']);
    expect(r.code).toBe(1);
    const report = json(r.stdout);
    expect(report.source).toBe('git-staged');
    expect(report.findings.map((f) => [f.secret, f.locations[0]!.path, f.locations[0]!.line])).toEqual([[added, 'b.txt', 2]]);
  });

  it('an inline allow comment lets a false positive through', () => {
    const repo = new TestRepo(join(tmp, 'allow'));
    repo.commit('base', { 'x.txt': 'x\n' });
    repo.write('fixture.ts', `const sample = "${githubToken()}"; // leakhound:allow\n`);
    repo.git(['add', '-A']);
    expect(staged(repo).code).toBe(0);
  });

  it('never runs the repository\'s fsmonitor, filters or hooks', () => {
    const repo = new TestRepo(join(tmp, 'hostile'));
    repo.commit('base', { 'x.txt': 'x\n' });
    repo.write('y.txt', `${githubToken()}\n`);
    repo.git(['add', '-A']);
    const marker = join(tmp, 'STAGED-MARKER');
    const script = join(tmp, 'evil-staged.sh');
    writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\ncat\n`);
    chmodSync(script, 0o755);
    writeFileSync(join(repo.dir, '.gitattributes'), '* filter=evil diff=evil\n');
    const cfg = join(repo.dir, '.git', 'config');
    writeFileSync(cfg, readFileSync(cfg, 'utf8') + `[core]\n\tfsmonitor = ${script}\n[filter "evil"]\n\tclean = ${script}\n\tsmudge = ${script}\n[diff "evil"]\n\ttextconv = ${script}\n[diff]\n\texternal = ${script}\n`);
    writeFileSync(join(repo.dir, '.git', 'hooks', 'post-index-change'), `#!/bin/sh\ntouch '${marker}'\n`);
    chmodSync(join(repo.dir, '.git', 'hooks', 'post-index-change'), 0o755);
    const r = staged(repo);
    expect(r.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
  });

  it('a bare repository has no index: one line, exit 2; full-CLI flags still work on this path', () => {
    const bare = new TestRepo(join(tmp, 'bare.git'), { bare: true });
    const r = runCli(['git', bare.dir, '--staged']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--staged needs a working tree');
    const help = runCli(['git', '--staged', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--range');
    const bad = runCli(['git', '--staged', '--format', 'xml'], { cwd: tmp });
    expect(bad.code).toBe(2);
  });

  it('5 ordinary files finish well inside the latency budget (bench: < 300 ms)', () => {
    const repo = new TestRepo(join(tmp, 'latency'));
    const body = readFileSync(join(import.meta.dirname, '..', 'src', 'scan', 'context.ts'), 'utf8').slice(0, 4000);
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`src/f${i}.ts`] = body;
    repo.commit('base', files);
    for (let i = 0; i < 5; i++) repo.write(`src/f${i}.ts`, body + `\n// edit ${i}\n`);
    repo.git(['add', '-A']);
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [cliPath, 'git', '--staged', '-q'], { cwd: repo.dir, encoding: 'utf8' });
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
      expect(r.status).toBe(0);
    }
    // generous: the machine is shared; the bench records the real figure
    expect(best).toBeLessThan(3000);
  });
});

describe('leakhound install-hook', () => {
  it('installs a pre-commit hook that blocks a commit adding a secret (also with commit -a), and --no-verify skips it', () => {
    const repo = new TestRepo(join(tmp, 'hooked'));
    repo.commit('base', { 'app.ini': 'x=1\n' });
    const r = runCli(['install-hook', repo.dir]);
    expect(r.code).toBe(0);
    const hook = join(repo.dir, '.git', 'hooks', 'pre-commit');
    expect(r.stdout).toContain(hook);
    repo.write('app.ini', `x=1\ntoken=${githubToken()}\n`);
    let blocked: unknown;
    try {
      repo.git(['commit', '-q', '-a', '-m', 'leak']);
    } catch (e) {
      blocked = e;
    }
    expect(String(blocked)).toContain('commit blocked');
    expect(String(blocked)).toContain('app.ini:2:7');
    expect(repo.git(['log', '--format=%s'])).toBe('base');
    repo.git(['commit', '-q', '-a', '--no-verify', '-m', 'forced']);
    expect(repo.git(['log', '-1', '--format=%s'])).toBe('forced');
    // clean commits pass through the hook
    repo.commit('clean', { 'readme.md': 'hello\n' });
    expect(repo.git(['log', '-1', '--format=%s'])).toBe('clean');
  });

  it('refuses to overwrite a hook it did not write unless --force; reinstalling its own is fine', () => {
    const repo = new TestRepo(join(tmp, 'existing'));
    const hook = join(repo.dir, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, '#!/bin/sh\necho mine\n');
    const r = runCli(['install-hook', repo.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('already exists');
    expect(readFileSync(hook, 'utf8')).toBe('#!/bin/sh\necho mine\n');
    expect(runCli(['install-hook', repo.dir, '--force']).code).toBe(0);
    expect(readFileSync(hook, 'utf8')).toContain('git --staged');
    expect(runCli(['install-hook', repo.dir]).code).toBe(0);
    const notRepo = runCli(['install-hook', tmp]);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toContain('not a git repository');
  });

  it('.pre-commit-hooks.yaml declares the hook for the pre-commit framework', () => {
    const text = readFileSync(join(import.meta.dirname, '..', '.pre-commit-hooks.yaml'), 'utf8');
    expect(text).toContain('id: leakhound');
    expect(text).toContain('entry: leakhound git --staged');
    expect(text).toContain('pass_filenames: false');
  });
});
