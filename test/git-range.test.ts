import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { TestRepo } from './helpers/git-repo.js';
import { githubToken } from './helpers/secrets.js';

interface JsonReport {
  source: string;
  findings: { secret?: string; locations: { path: string; line: number; properties?: Record<string, unknown> }[] }[];
}

let tmp: string;
let cleanup: () => void;
let repo: TestRepo;
const tok = { before: githubToken(), copied: githubToken(), added: githubToken(), transient: githubToken(), readded: githubToken() };
const sha: Record<string, string> = {};

beforeAll(() => {
  ({ dir: tmp, cleanup } = tempDir('leakhound-range-'));
  repo = new TestRepo(join(tmp, 'repo'));
  repo.commit('old secret, later removed', { 'old.txt': `${tok.readded}\n` });
  repo.rm('old.txt');
  repo.commit('remove it');
  sha['base'] = repo.commit('base', { 'a.txt': `one ${tok.before}\n`, 'b.txt': `also ${tok.copied}\n` });
  // the range
  sha['edit'] = repo.commit('edit a, keep its secret', { 'a.txt': `one ${tok.before}\ntwo\n` });
  sha['copy'] = repo.commit('copy a known secret elsewhere', { 'new/copy.txt': `dup ${tok.copied}\n` });
  sha['add'] = repo.commit('add a new secret', { 'c.txt': `three\n${tok.added}\n` });
  sha['transient'] = repo.commit('add and ...', { 'd.txt': `${tok.transient}\n` });
  repo.rm('d.txt');
  repo.commit('... remove');
  sha['readd'] = repo.commit('bring the old one back', { 'old.txt': `${tok.readded}\n` });
  sha['head'] = repo.head();
  // hostile config, set after the history is built
  const marker = join(tmp, 'MARKER');
  const script = join(tmp, 'evil.sh');
  writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\ncat\n`);
  chmodSync(script, 0o755);
  writeFileSync(join(repo.dir, '.gitattributes'), '* filter=evil diff=evil\n');
  const cfg = join(repo.dir, '.git', 'config');
  writeFileSync(cfg, readFileSync(cfg, 'utf8') + `[core]\n\tfsmonitor = ${script}\n[filter "evil"]\n\tclean = ${script}\n\tsmudge = ${script}\n[diff "evil"]\n\ttextconv = ${script}\n[grep]\n\tfallbackToNoIndex = true\n`);
});
afterAll(() => cleanup());

const range = (r: string, extra: string[] = []) => runCli(['git', repo.dir, '--range', r, '-f', 'json', '--show-secrets', ...extra]);

describe('leakhound git --range BASE..HEAD', () => {
  it('reports secrets the range introduces (also ones removed again, and re-added ones), not those already in BASE', () => {
    const r = range(`${sha['base']}..${sha['head']}`);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.source).toBe('git-range');
    const secrets = report.findings.map((f) => f.secret).sort();
    expect(secrets).toEqual([tok.added, tok.transient, tok.readded].sort());
    const added = report.findings.find((f) => f.secret === tok.added)!;
    expect(added.locations).toHaveLength(1);
    expect(added.locations[0]).toMatchObject({ path: 'c.txt', line: 2, properties: { commit: sha['add'], author: 'Test Author', email: 'author@example.com', summary: 'add a new secret' } });
    expect(report.findings.find((f) => f.secret === tok.readded)!.locations[0]!.properties).toMatchObject({ commit: sha['readd'] });
    expect(existsSync(join(tmp, 'MARKER'))).toBe(false);
  });

  it('a range that adds nothing new is clean; HEAD defaults to HEAD', () => {
    const r = range(`${sha['copy']}..${sha['copy']}`);
    expect(r.code).toBe(0);
    const r2 = runCli(['git', repo.dir, '--range', `${sha['readd']}..`]);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain('No secrets found');
  });

  it('branch names work as BASE and HEAD', () => {
    repo.git(['branch', '-f', 'base-branch', sha['edit']!]);
    const r = range('base-branch..main');
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.findings.map((f) => f.secret).sort()).toEqual([tok.added, tok.transient, tok.readded].sort());
  });

  it('a bad range is one line, exit 2', () => {
    for (const bad of ['nope..HEAD', 'HEAD', `${sha['base']}...${sha['head']}`, '--all..HEAD']) {
      const r = runCli(['git', repo.dir, `--range=${bad}`]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr.trim().split('\n'), bad).toHaveLength(1);
      expect(r.stderr).toMatch(/^leakhound: error: --range/);
    }
  });
});
