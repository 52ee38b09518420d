import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';

interface Report { findings: { fingerprint: string; ruleId: string; locations: { path: string }[] }[] }

describe('baselines and the fingerprint ignore file', () => {
  it('leakhound baseline records findings; --baseline reports and fails only on new ones', () => {
    const { dir, cleanup } = tempDir();
    try {
      const old = githubToken();
      writeFileSync(join(dir, 'a.env'), `T=${old}\n`);
      const b = runCli(['baseline', '.'], { cwd: dir });
      expect(b.code).toBe(0);
      const baseline = JSON.parse(readFileSync(join(dir, '.leakhound-baseline.json'), 'utf8')) as Report;
      expect(baseline.findings).toHaveLength(1);
      expect(readFileSync(join(dir, '.leakhound-baseline.json'), 'utf8')).not.toContain(old);
      // nothing new: exit 0
      expect(runCli(['dir', '.', '--baseline', '.leakhound-baseline.json'], { cwd: dir }).code).toBe(0);
      // the known secret moved to another file: still known (fingerprints come from the secret)
      writeFileSync(join(dir, 'b.yaml'), `token: ${old}\n`);
      expect(runCli(['dir', '.', '--baseline', '.leakhound-baseline.json'], { cwd: dir }).code).toBe(0);
      // a new secret on the old line is reported
      const fresh = githubToken();
      writeFileSync(join(dir, 'a.env'), `T=${fresh}\n`);
      const r = runCli(['dir', '.', '--baseline', '.leakhound-baseline.json', '-f', 'json'], { cwd: dir });
      expect(r.code).toBe(1);
      expect((JSON.parse(r.stdout) as Report).findings.map((f) => f.locations[0]!.path)).toEqual(['a.env']);
    } finally {
      cleanup();
    }
  });

  it('.leakhound-fingerprints silences accepted findings by fingerprint, with comments', () => {
    const { dir, cleanup } = tempDir();
    try {
      const t1 = githubToken();
      const t2 = githubToken();
      writeFileSync(join(dir, 'x.txt'), `a=${t1}\nb=${t2}\n`);
      const all = JSON.parse(runCli(['dir', dir, '-f', 'json']).stdout) as Report;
      expect(all.findings).toHaveLength(2);
      writeFileSync(join(dir, '.leakhound-fingerprints'), `# accepted: test account\n${all.findings[0]!.fingerprint}  github-pat-classic x.txt:1\n`);
      const rest = JSON.parse(runCli(['dir', dir, '-f', 'json']).stdout) as Report;
      expect(rest.findings.map((f) => f.fingerprint)).toEqual([all.findings[1]!.fingerprint]);
      writeFileSync(join(dir, 'fp.txt'), 'not-a-fingerprint\n');
      const bad = runCli(['dir', dir, '--ignore-file', join(dir, 'fp.txt')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/fp\.txt:1: expected a 64-character hex fingerprint/);
      const badBaseline = runCli(['dir', dir, '--baseline', join(dir, 'x.txt')]);
      expect(badBaseline.code).toBe(2);
      expect(badBaseline.stderr).toMatch(/not a leakhound JSON report/);
      expect(badBaseline.stderr).not.toContain(t1);
    } finally {
      cleanup();
    }
  });
});
