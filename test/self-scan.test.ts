import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './helpers/cli.js';

// Test secrets are generated at run time or kept where the shipped config skips them (rules/,
// fixtures/): a scan of this repository with default settings must come back clean.
describe('this repository', () => {
  it('scans clean with the default settings', () => {
    const r = runCli(['dir', '.', '-f', 'json'], { cwd: repoRoot });
    const report = JSON.parse(r.stdout) as { findings: { ruleId: string; locations: { path: string; line: number }[] }[] };
    expect(report.findings.map((f) => `${f.ruleId} ${f.locations[0]!.path}:${f.locations[0]!.line}`)).toEqual([]);
    expect(r.code).toBe(0);
  });
});
