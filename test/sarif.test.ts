import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type * as Sarif from 'sarif';
import { repoRoot, runCli, tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';
import { renderSarif, MAX_LOCATIONS_PER_RESULT, MAX_RESULTS_PER_RUN } from '../src/report/sarif.js';
import { emptyStats, type Finding, type RuleDefinition } from '../src/core/types.js';

const multitool = join(repoRoot, 'node_modules', '@microsoft', 'sarif-multitool-linux', 'Sarif.Multitool');

/** Runs Microsoft's SARIF validator and returns its error and warning results. */
function validate(file: string): string[] {
  const out = `${file}.validation.sarif`;
  const r = spawnSync(multitool, ['validate', file, '--output', out, '--log', 'ForceOverwrite'], { encoding: 'utf8' });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const log = JSON.parse(readFileSync(out, 'utf8')) as Sarif.Log;
  return (log.runs[0]?.results ?? [])
    .filter((res) => res.level === 'error' || res.level === 'warning')
    .map((res) => `${res.ruleId}: ${JSON.stringify(res.message)}`);
}

let dir: string;
let cleanup: () => void;
const secret = githubToken();
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  mkdirSync(join(dir, 'src dir'), { recursive: true });
  writeFileSync(join(dir, 'src dir', 'a b.js'), `x\nconst t = "${secret}";\n`);
  writeFileSync(join(dir, 'b.env'), `T=${secret}\nU=${githubToken('ghs')}\n`);
});
afterAll(() => cleanup());

describe('SARIF report', () => {
  it("passes Microsoft's SARIF validator with no errors", () => {
    const file = join(dir, 'out.sarif');
    expect(runCli(['dir', dir, '-f', 'sarif', '-o', file, '--exclude', '*.sarif']).code).toBe(1);
    expect(validate(file)).toEqual([]);
  });

  it('has the driver, fired rules with help, relative %SRCROOT% URIs, full regions and fingerprints', () => {
    const log = JSON.parse(runCli(['dir', dir, '-f', 'sarif', '--exclude', '*.sarif']).stdout) as Sarif.Log;
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('leakhound');
    expect(run.tool.driver.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(run.tool.driver.informationUri).toMatch(/^https:\/\//);
    const ids = run.tool.driver.rules!.map((r) => r.id).sort();
    expect(ids).toEqual(['github-app-installation-token', 'github-pat-classic']);
    for (const rule of run.tool.driver.rules!) {
      expect(rule.shortDescription?.text).toBeTruthy();
      expect(rule.fullDescription?.text).toBeTruthy();
      expect(rule.help?.text).toMatch(/rotat/i);
    }
    expect(run.originalUriBaseIds?.['%SRCROOT%']?.uri).toMatch(/^file:\/\/\/.*\/$/);
    const pat = run.results!.find((r) => r.ruleId === 'github-pat-classic')!;
    expect(pat.level).toBe('error');
    expect(pat.partialFingerprints?.['leakhoundSecret/v1']).toMatch(/^[0-9a-f]{64}$/);
    const uris = pat.locations!.map((l) => l.physicalLocation!.artifactLocation!);
    expect(uris).toEqual([
      { uri: 'b.env', uriBaseId: '%SRCROOT%' },
      { uri: 'src%20dir/a%20b.js', uriBaseId: '%SRCROOT%' },
    ]);
    expect(pat.locations![1]!.physicalLocation!.region).toEqual({
      startLine: 2,
      startColumn: 12,
      endLine: 2,
      endColumn: 12 + secret.length,
    });
    expect(JSON.stringify(log)).not.toContain(secret);
  });

  it("respects GitHub's limits: 25,000 results per run, 1,000 locations per result", () => {
    const rule: RuleDefinition = {
      id: 'test-rule', title: 'Test', provider: 'Test', pattern: 'x', boundary: 'word', allow: [],
      confidence: 'high', severity: 'high', examples: [], negatives: [],
    };
    const loc = (i: number) => ({ path: `f${i}.txt`, line: 1, column: 1, endLine: 1, endColumn: 5 });
    const findings: Finding[] = [];
    for (let i = 0; i < MAX_RESULTS_PER_RUN + 10; i++) {
      findings.push({
        ruleId: 'test-rule', title: 'Test', provider: 'Test', severity: 'high', confidence: 'high',
        fingerprint: i.toString(16).padStart(64, '0'), redacted: 'ab********',
        locations: i === 0 ? Array.from({ length: 1500 }, (_, j) => loc(j)) : [loc(i)],
      });
    }
    const log = JSON.parse(
      renderSarif({ source: 'dir', baseDir: '/tmp', findings, rules: new Map([['test-rule', rule]]), stats: emptyStats() }),
    ) as Sarif.Log;
    const run = log.runs[0]!;
    expect(run.results).toHaveLength(MAX_RESULTS_PER_RUN);
    expect(run.results![0]!.locations).toHaveLength(MAX_LOCATIONS_PER_RESULT);
    expect(run.results![0]!.properties?.['omittedLocations']).toBe(500);
    expect(run.properties?.['omittedResults']).toBe(10);
  });
});
