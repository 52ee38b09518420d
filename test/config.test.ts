import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';

let dir: string;
let cleanup: () => void;
const t1 = githubToken();
const t2 = githubToken();
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  writeFileSync(join(dir, 'a.txt'), `one=${t1}\n`);
  writeFileSync(join(dir, 'b.txt'), `two=${t2}\ninternal=ACME-INTERNAL-7f3a9c2e1b\n`);
});
afterAll(() => cleanup());

const found = (args: string[]): string[] =>
  (JSON.parse(runCli(['dir', dir, '-f', 'json', ...args]).stdout) as { findings: { ruleId: string; locations: { path: string }[] }[] })
    .findings.map((f) => `${f.ruleId}@${f.locations[0]!.path}`)
    .sort();

describe('config file', () => {
  it('.leakhound.yaml at the scan root allows paths and secret regexes, disables and adds rules', () => {
    writeFileSync(
      join(dir, '.leakhound.yaml'),
      [
        'allow:',
        '  paths: ["a.txt"]',
        'rules:',
        '  add:',
        '    - id: acme-internal-key',
        '      title: ACME internal key',
        '      provider: ACME',
        "      pattern: '(ACME-INTERNAL-[0-9a-f]{10})'",
        '      severity: medium',
        "      examples: ['k=ACME-INTERNAL-0a1b2c3d4e']",
        "      negatives: ['k=ACME-INTERNAL-zz']",
        '',
      ].join('\n'),
    );
    try {
      expect(found([])).toEqual(['acme-internal-key@b.txt', 'github-pat-classic@b.txt']);
      writeFileSync(join(dir, 'alt.yaml'), `rules:\n  disable: [github-pat-classic]\nallow:\n  regexes: ['^ACME-INTERNAL-7f']\n`);
      expect(found(['--config', join(dir, 'alt.yaml')])).toEqual([]);
      writeFileSync(join(dir, 'fp.yaml'), 'allow:\n  regexes: []\n');
      expect(found(['--config', join(dir, 'fp.yaml')])).toEqual(['github-pat-classic@a.txt', 'github-pat-classic@b.txt']);
    } finally {
      writeFileSync(join(dir, '.leakhound.yaml'), '');
    }
  });

  it('a bad config names the file, the line and the problem, exit 2', () => {
    const cases: [string, RegExp][] = [
      ['allow:\n  paths: [unclosed\n', /bad1\.yaml:\d+: invalid YAML/],
      ['allow:\n  paths: []\n  regexs: [x]\n', /bad2\.yaml:3: unknown key 'allow\.regexs'/],
      ['rules:\n  disable: [no-such-rule]\n', /bad3\.yaml: rules\.disable names unknown rule 'no-such-rule'/],
      ['allow:\n  regexes:\n    - ok\n    - "(unclosed"\n', /bad4\.yaml:4: '\(unclosed' is not a valid RE2 pattern/],
      ['rules:\n  add:\n    - id: x-rule\n      title: X\n      provider: X\n      pattern: "(a(?=b))"\n', /bad5\.yaml.*x-rule: pattern does not compile as RE2/],
      ['rules:\n  add:\n    - id: Bad_Id\n      title: X\n', /bad6\.yaml:3: rules\.add\.0\.id: id 'Bad_Id' must be kebab-case/],
    ];
    cases.forEach(([text, expected], i) => {
      const file = join(dir, `bad${i + 1}.yaml`);
      writeFileSync(file, text);
      const r = runCli(['dir', dir, '--config', file]);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(expected);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    });
    const missing = runCli(['dir', dir, '--config', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read config .*nope\.yaml: ENOENT/);
  });
});

describe('allow.paths applies to every source', () => {
  it('git history findings under an allowed path are not reported', async () => {
    const { TestRepo } = await import('./helpers/git-repo.js');
    const { dir: repoDir, cleanup: done } = tempDir();
    try {
      const repo = new TestRepo(repoDir);
      repo.commit('fixtures and code', {
        'fixtures/keys.env': `T=${githubToken()}\n`,
        'src/app.js': `const t = "${githubToken()}";\n`,
        '.leakhound.yaml': 'allow:\n  paths: ["fixtures/**"]\n',
      });
      const r = runCli(['git', repoDir, '-f', 'json']);
      expect(r.code).toBe(1);
      const paths = (JSON.parse(r.stdout) as { findings: { locations: { path: string }[] }[] }).findings.flatMap((f) => f.locations.map((l) => l.path));
      expect(paths).toEqual(['src/app.js']);
    } finally {
      done();
    }
  });
});
