import { describe, expect, it } from 'vitest';
import { loadRuleDir } from '../src/rules/load.js';
import { compileRules } from '../src/engine/compile.js';
import { scanBuffer } from '../src/engine/scan.js';

// Every rule proves itself: each example must be found by that rule, no negative may be. With the
// multi-pattern pass on Hyperscan (when built) and on RE2: both must give the same hits.
const rules = loadRuleDir();
const compiled = compileRules(rules);
const onRe2 = compileRules(rules, { engine: 're2' });
const ruleIdsFound = (text: string): string[] => {
  const hits = scanBuffer(compiled, Buffer.from(text));
  expect(scanBuffer(onRe2, Buffer.from(text)), `RE2-only pass on: ${text}`).toEqual(hits);
  return hits.map((h) => h.ruleId);
};

describe('rule pack', () => {
  it('has at least 40 rules, each with examples and negative examples', () => {
    expect(rules.length).toBeGreaterThanOrEqual(40);
    for (const r of rules) {
      expect(r.examples.length, `${r.id} examples`).toBeGreaterThanOrEqual(1);
      expect(r.negatives.length, `${r.id} negatives`).toBeGreaterThanOrEqual(1);
    }
  });

  for (const rule of rules) {
    describe(rule.id, () => {
      rule.examples.forEach((example, i) => {
        it(`finds example ${i + 1}`, () => {
          expect(ruleIdsFound(example), `example: ${example}`).toContain(rule.id);
        });
      });
      rule.negatives.forEach((negative, i) => {
        it(`ignores negative ${i + 1}`, () => {
          expect(ruleIdsFound(negative), `negative: ${negative}`).not.toContain(rule.id);
        });
      });
    });
  }
});
