import { describe, expect, it } from 'vitest';
import RE2 from 're2';
import { hyperscanSuperset } from '../src/engine/superset.js';
import { buildMatcher, type MultiPattern } from '../src/engine/multipattern.js';
import { compileRules } from '../src/engine/compile.js';
import { nativeAddon } from '../src/native/addon.js';
import { loadRuleDir } from '../src/rules/load.js';
import { edgeText, re2Patterns, samplesOf } from './helpers/patterns.js';

// .ci/run builds the addon and sets this: there the Hyperscan tests must run, never skip
const REQUIRED = process.env['LEAKHOUND_TEST_REQUIRE_HYPERSCAN'] === '1';
const addon = nativeAddon();
if (REQUIRED && addon === undefined) throw new Error('the native addon is not built (scripts/install.sh builds it when libhyperscan-dev is installed)');
const describeNative = addon === undefined ? describe.skip : describe;

describe('superset of a rule pattern for Hyperscan', () => {
  it("spells out (?i) with RE2's folds of k and s into non-ASCII letters", () => {
    expect(hyperscanSuperset('(?i)ks')).toBe('[\\x{4b}\\x{6b}\\x{212a}][\\x{53}\\x{73}\\x{17f}]');
    expect(hyperscanSuperset('(?i)a(?-i:b)c')).toBe('[\\x{41}\\x{61}]b[\\x{43}\\x{63}]');
    expect(hyperscanSuperset('(?i:a)b')).toBe('[\\x{41}\\x{61}]b');
  });

  it("writes \\s, \\S, \\d and \\w as RE2's ASCII sets (PCRE's \\s also takes \\v)", () => {
    expect(hyperscanSuperset('a\\sb')).toBe('a[\\x{9}-\\x{a}\\x{c}-\\x{d}\\x{20}]b');
    expect(hyperscanSuperset('a\\Sb')).toBe('a[^\\x{9}-\\x{a}\\x{c}-\\x{d}\\x{20}]b');
    expect(hyperscanSuperset('[^\\s"]x')).toBe('[^\\x{9}-\\x{a}\\x{c}-\\x{d}\\x{20}\\x{22}]x');
    expect(hyperscanSuperset('\\d\\w')).toBe('[\\x{30}-\\x{39}][\\x{30}-\\x{39}\\x{41}-\\x{5a}\\x{5f}\\x{61}-\\x{7a}]');
  });

  it('drops anchors and word boundaries, names of groups and laziness', () => {
    expect(hyperscanSuperset('^ab$')).toBe('ab');
    expect(hyperscanSuperset('\\bab\\B\\z')).toBe('ab');
    expect(hyperscanSuperset('(?:^|x)(?P<secret>ab+?)')).toBe('(?:|x)ab+');
    expect(hyperscanSuperset('(?:ab|c)+d')).toBe('(?:ab|c)+d');
  });

  it('keeps short counts and lifts long ones to an open bound', () => {
    expect(hyperscanSuperset('a{2,5}b{3}')).toBe('a{2,5}b{3}');
    expect(hyperscanSuperset('a{40}b{2,100}c{0,}')).toBe('a{32,}b{2,}c*');
  });

  it('takes a Unicode or POSIX class for any character', () => {
    const any = '[\\x{0}-\\x{10ffff}]';
    expect(hyperscanSuperset('\\pLx')).toBe(`${any}x`);
    expect(hyperscanSuperset('\\P{Greek}x')).toBe(`${any}x`);
    expect(hyperscanSuperset('[^[:alpha:]]x')).toBe(`${any}x`);
  });

  it('gives up where it cannot promise a superset', () => {
    expect(hyperscanSuperset('(?i)é')).toBeUndefined(); // RE2 folds it to É: not spelled out here
    expect(hyperscanSuperset('(?i)[a-zé]')).toBeUndefined();
    expect(hyperscanSuperset('\\Qa.b\\E')).toBeUndefined();
    expect(hyperscanSuperset('^$')).toBeUndefined(); // nothing left to look for
    expect(hyperscanSuperset('a\\012')).toBeUndefined(); // RE2: octal, a newline
    expect(hyperscanSuperset('[\\0-\\x{1f}]')).toBeUndefined();
    // a negated class may fold less: its complement only grows
    expect(hyperscanSuperset('(?i)[^é]')).toBe('[^\\x{e9}]');
  });

  it("knows every fold RE2's (?i) makes between ASCII and other characters", () => {
    let everyOther = '';
    for (let cp = 0x80; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) everyOther += String.fromCodePoint(cp);
    const text = Buffer.from(everyOther);
    const folds: string[] = [];
    for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789_') {
      const re = new RE2(`(?i)${c}`, 'g');
      for (let m = re.exec(text); m !== null; m = re.exec(text)) folds.push(`${c}:${(m[0] as unknown as Buffer).toString('utf8').codePointAt(0)!.toString(16)}`);
    }
    expect(folds).toEqual(['k:212a', 's:17f']); // the CROSS_FOLDS of superset.ts
  });

  it('covers every built-in rule', () => {
    const rules = loadRuleDir().filter((r) => r.composite === undefined);
    const without = rules.filter((r) => hyperscanSuperset(r.pattern) === undefined).map((r) => r.id);
    expect(without).toEqual([]);
  });
});

/** Small patterns using each construct the rewrite changes, so random edge text matches them often. */
const TRICKY = [
  '(?i)k',
  '(?i)s[a-z]',
  '(?i)[k-s]{2}',
  '(?i)[^k]s',
  '\\S{3}',
  '[^\\s]{2}=',
  '\\s\\S',
  '.{3}x',
  '(?s).{2}a',
  '[^a]{2,3}b',
  '\\w+\\W',
  '^a',
  'b$',
  '\\bk\\b',
  '(?i)(?:ka|sa)[^\\n]{0,3}9',
  '[\\x{e0}-\\x{ff}]a',
  '😀.',
  '(?i)x(?-i:K)',
  '(?:^|[^a-z0-9])(?i)s\\s*[:=]',
  '\\pL{2}b',
  '[^[:digit:]]a',
  '(?i)[^s]k',
];

describeNative('superset on Hyperscan: every input RE2 matches, Hyperscan matches', () => {
  // the body is read even when the block is skipped (no addon): nothing here may touch it yet
  type Database = InstanceType<NonNullable<typeof addon>['Database']>;
  const compileAlone = (source: string): Database => {
    const native = addon!;
    const flags = native.flags.UTF8 | native.flags.PREFILTER | native.flags.SINGLEMATCH;
    return new native.Database(native.compile([source], [flags], [0]), 1);
  };

  it('on random text around the edges of both dialects', () => {
    let matched = 0;
    for (const pattern of TRICKY) {
      const re = new RE2(pattern);
      const db = compileAlone(hyperscanSuperset(pattern)!);
      for (let i = 0; i < 400; i++) {
        const text = Buffer.from(edgeText());
        if (!re.test(text)) continue;
        matched++;
        expect(db.match(text), `${pattern} on ${JSON.stringify(text.toString())}`).toEqual([0]);
      }
    }
    expect(matched).toBeGreaterThan(1000);
  });

  it('on random patterns, with strings sampled from them', () => {
    let patterns = 0;
    let matched = 0;
    for (const g of re2Patterns(400)) {
      const superset = hyperscanSuperset(g.source);
      if (superset === undefined) continue; // given up: the rule keeps its factors
      let db: ReturnType<typeof compileAlone>;
      try {
        db = compileAlone(superset);
      } catch {
        continue; // refused by Hyperscan (it may match the empty string): the rule keeps its factors
      }
      patterns++;
      for (const text of samplesOf(g, 30)) {
        if (!g.re.test(text)) continue;
        matched++;
        expect(db.match(text), `${g.source} -> ${superset} on ${JSON.stringify(text.toString())}`).toEqual([0]);
      }
    }
    expect(patterns).toBeGreaterThan(250);
    expect(matched).toBeGreaterThan(2000);
  });

  it("on every built-in rule's examples, in the full pass", () => {
    const rules = loadRuleDir();
    const compiled = compileRules(rules);
    expect(compiled.prefilter.engine).toBe('hyperscan');
    let checked = 0;
    compiled.rules.forEach((r, index) => {
      for (const text of r.def.examples) {
        expect(compiled.prefilter.match(Buffer.from(text)), `${r.def.id}: ${JSON.stringify(text).slice(0, 60)}`).toContain(index);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(300);
  });

  it('says which rules it runs as superset, so their factor reach is not used', () => {
    const defs = loadRuleDir();
    const hs = compileRules(defs);
    const re2 = compileRules(defs, { engine: 're2' });
    const withReach = re2.rules.filter((r) => r.reach >= 0).length;
    expect(withReach).toBeGreaterThan(200);
    hs.rules.forEach((r, i) => {
      expect(hs.prefilter.reportsSourceEnd(i)).toBe(false);
      expect(r.reach).toBe(-1);
    });
  });

  it('falls back to the source when Hyperscan refuses a superset', () => {
    const patterns: MultiPattern[] = [
      { source: 'abc', hyperscanExact: true, superset: 'x*' }, // matches empty: refused
      { source: 'def', hyperscanExact: false, superset: 'y*' }, // refused, and no exact source: RE2
      { source: 'ghi', hyperscanExact: true, superset: 'gh[a-z]' },
    ];
    const m = buildMatcher(patterns);
    expect(m.engine).toBe('hyperscan');
    expect([0, 1, 2].map((i) => m.reportsSourceEnd(i))).toEqual([true, true, false]);
    expect(m.match(Buffer.from('--abc--def--ghz'))).toEqual([0, 1, 2]);
    expect(m.match(Buffer.from('--ab--xx--yy'))).toEqual([]);
  });
});
