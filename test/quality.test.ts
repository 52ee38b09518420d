import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRuleDir } from '../src/rules/load.js';
import { generateCorpus, SMALL } from '../bench/quality-corpus.js';
import { evaluate, RECALL_TARGET, scanCorpus } from '../bench/quality.js';
import { githubToken } from './helpers/secrets.js';

// A small version of `npm run bench:quality`: every rule, one example each, a few syntaxes, the
// hard negatives once; scanned by the built CLI. Guards the recall and false-positive targets.
const work = mkdtempSync(join(tmpdir(), 'leakhound-quality-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rules = loadRuleDir();
const corpus = generateCorpus(join(work, 'corpus'), rules, SMALL);
const scan = scanCorpus(corpus.dir);
const result = evaluate(corpus, rules, scan.findings, scan.seconds);

describe('bench:quality (small corpus)', () => {
  it('plants positives of every rule family and every hard-negative category', () => {
    const families = new Set(rules.map((r) => r.file!.split('/').pop()));
    const planted = new Set(corpus.planted.filter((p) => p.kind === 'positive').map((p) => p.group));
    expect([...families].filter((f) => !planted.has(f))).toEqual([]);
    const categories = new Set(corpus.planted.filter((p) => p.kind === 'negative').map((p) => p.group));
    for (const c of ['placeholder', 'documented-example', 'lockfile-hash', 'content-hash', 'uuid', 'public-key', 'base64-media', 'minified']) {
      expect(categories, c).toContain(c);
    }
  });

  it(`reaches recall >= ${RECALL_TARGET} in every family`, () => {
    const low = result.families.filter((f) => f.planted > 0 && f.recall < RECALL_TARGET).map((f) => `${f.family}: ${f.recall.toFixed(3)} (missed ${f.missed.map((m) => `${m.label}/${m.context}`).join(', ')})`);
    expect(low).toEqual([]);
  });

  it('reports no planted negative and nothing outside planted locations', () => {
    expect(result.negatives.flatMap((n) => n.hits)).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.misattributed).toEqual([]);
  });

  it('the evaluation fails when a negative file holds a real secret', () => {
    // guards the guard: a negative region that does contain a secret is counted as reported
    const neg = corpus.planted.find((p) => p.kind === 'negative' && p.group === 'lockfile-hash')!;
    const dir = join(work, 'tampered');
    const copy = generateCorpus(dir, rules, { ...SMALL, examplesPerRule: 0, genericPerKey: 0 });
    const target = copy.planted.find((p) => p.kind === 'negative' && p.label === neg.label)!;
    const path = join(dir, target.path);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(target.line - 1, 0, `"token": "${githubToken()}",`);
    writeFileSync(path, lines.join('\n'));
    const s = scanCorpus(dir);
    const r = evaluate(copy, rules, s.findings, s.seconds);
    expect(r.negatives.find((n) => n.category === 'lockfile-hash')!.reported).toBeGreaterThan(0);
    expect(r.meetsTargets).toBe(false);
  });
});
