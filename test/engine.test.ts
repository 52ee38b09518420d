import { describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import RE2 from 're2';
import { compileRules, startsWithLiteral } from '../src/engine/compile.js';
import { scanBuffer, WINDOW_SIZE } from '../src/engine/scan.js';
import { analyzeFactors, factorSource, requiredFactors } from '../src/engine/literals.js';
import { loadRuleDir } from '../src/rules/load.js';
import { widenRepetitions } from '../src/engine/prefilter.js';
import { shannonEntropy } from '../src/engine/entropy.js';
import { isPlaceholder } from '../src/engine/placeholder.js';
import type { RuleDefinition } from '../src/core/types.js';
import { randomString } from './helpers/secrets.js';
import { re2Patterns, samplesOf } from './helpers/patterns.js';

const rule = (over: Partial<RuleDefinition>): RuleDefinition => ({
  id: 'r', title: 'R', provider: 'P', pattern: '(tok_[a-z0-9]{20})', boundary: 'word', allow: [],
  confidence: 'high', severity: 'high', examples: [], negatives: [], ...over,
});

describe('required factors', () => {
  const factors = (p: string): string[] | undefined => requiredFactors(p)?.map(factorSource);
  const hex = '[0-9a-f]';
  const alnum = '[0-9A-Za-z]';

  it('extracts a literal every match must contain, with the token classes that follow it', () => {
    expect(factors('(ghp_[A-Za-z0-9]{36})')).toEqual([`ghp_${alnum.repeat(10)}`]);
    expect(factors('(?P<secret>sk_[a-f0-9]{48})')).toEqual([`sk_${hex.repeat(10)}`]);
    expect(factors('(?:xox[bp])-[0-9]+')).toEqual(['xox[bp]\\-[0-9]']);
    expect(factors('([0-9a-f]{32}-us[0-9]{1,2})')).toEqual(['\\-us[0-9]']);
    expect(factors('(?i)postgres(?:ql)?://[^:]+:(?P<secret>[^@]+)@')).toEqual([
      // (?i): RE2 also matches the long s (U+017F) for s, and the Kelvin sign for k
      '[Pp][Oo][Ss\\x{17f}][Tt][Gg][Rr][Ee][Ss\\x{17f}]\\:\\/\\/',
      '[Pp][Oo][Ss\\x{17f}][Tt][Gg][Rr][Ee][Ss\\x{17f}][Qq][Ll]\\:\\/\\/',
    ]);
  });

  it('keeps case where the pattern is case-sensitive', () => {
    expect(factors('(?i)key(?-i:ABC)')).toEqual(['[Kk\\x{212a}][Ee][Yy]ABC']);
    expect(factors('(?i)AB[cd]EF')).toEqual(['[Aa][Bb][CDcd][Ee][Ff]']);
    // RE2's (?i) matches the Kelvin sign for k and the long s for s: so must the factor
    const [key] = requiredFactors('(?i)key=')!;
    expect(new RE2(factorSource(key!)).test('\u212aey=')).toBe(true);
    const [secret] = requiredFactors('(?i)secret=')!;
    expect(new RE2(factorSource(secret!)).test('\u017fECRET=')).toBe(true);
    // a case-insensitive non-ASCII letter has folds not spelled out here: no factor from it
    expect(factors('(?i)é')).toBeUndefined();
  });

  it('prefers a provider name to a generic key word, and a key word to two letters', () => {
    const plaid = factors('(?i)(?:plaid|plaid_client)[_.-]secret\\s*=\\s*([a-f0-9]{30})');
    expect(plaid?.length).toBeGreaterThan(0);
    expect(plaid?.every((f) => f.startsWith('[Pp][Ll][Aa][Ii][Dd]'))).toBe(true);
    expect(factors('(?i)cf[a-z]{0,3}key')).toEqual(['[Kk\\x{212a}][Ee][Yy]']);
  });

  it('adds run classes after a selective start only, unless nothing better exists', () => {
    // "AB" then hex: selective enough to track a few hex characters
    expect(factors('AB[a-f0-9]{20}(?:x|y)*')).toEqual([`AB${hex.repeat(10)}`]);
    // "a" alone is not: the rule falls back to a literal elsewhere in it
    expect(factors('a[a-f0-9]{20}QZ')).toEqual([`QZ`]);
    // no character of note anywhere: a weak start with classes beats the whole widened pattern
    expect(factors('at[A-Za-z0-9]{14}')).toEqual([`at${alnum.repeat(10)}`]);
  });

  it('gives up (falls back to the widened pattern) rather than guess', () => {
    expect(factors('([A-Za-z0-9]{40})')).toBeUndefined();
    expect(factors('(?:abc)?[0-9]+')).toBeUndefined();
    expect(factors('(abc|[0-9]+)')).toBeUndefined();
    expect(factors('a(?=b)')).toBeUndefined();
    // RE2 reads \012 as one octal escape (a newline), not NUL and two digits
    expect(factors('tokenvalue\\012abc')).toBeUndefined();
    expect(factors('tokenvalue[\\0-\\x{1f}]')).toBeUndefined();
  });

  it('every factor set is sound on random inputs: a match always contains a factor', () => {
    // each pattern with pieces of it, so that random strings of pieces match it often
    const cases: [string, string[]][] = [
      ['(foo|bar)baz[0-9]{2}', ['foo', 'bar', 'baz', '1', '2', 'x']],
      ['xx(?:ab|cd)?yz+', ['xx', 'ab', 'cd', 'y', 'z', 'q']],
      ['(?i)AB[cd]EF', ['aB', 'Ab', 'c', 'D', 'eF', 'x']],
      ['q\\.w\\-e{2,3}', ['q.', 'w-', 'e', 'x']],
      ['[ab][cd][ef]{1}', ['a', 'b', 'c', 'd', 'e', 'f', 'x']],
      ['AB[0-9a-f]{3,9}Q', ['AB', '1', 'a', 'f', 'Q', 'x']],
      ['(?:AB|CD)[a-f]{2}(?i:xy)', ['AB', 'CD', 'a', 'f', 'x', 'Y']],
      ['zz(?:[0-9]{2}|q)+w', ['zz', '1', '2', 'q', 'w', 'x']],
      ['(?i)(?:fa|qd)[a-z0-9_.-]{0,4}key', ['fa', 'QD', 'x', '_', '9', 'key', 'KeY']],
    ];
    for (const [p, pieces] of cases) {
      const fs = factors(p);
      expect(fs, p).toBeDefined();
      const re = new RE2(p);
      const any = new RE2(`(?:${fs!.join('|')})`);
      let matched = 0;
      for (let i = 0; i < 4000; i++) {
        const s = Array.from({ length: 8 }, () => pieces[randomInt(pieces.length)]!).join('');
        const m = re.exec(s);
        if (!m) continue;
        matched++;
        expect(any.test(m[0]), `${p} on ${s}: ${fs!.join('|')}`).toBe(true);
      }
      expect(matched, p).toBeGreaterThan(0);
    }
  });

  it('every factor set is sound on random patterns: a match always contains a factor', () => {
    let analysed = 0;
    let matched = 0;
    // most short random patterns are too weak to have a factor: many are drawn
    for (const g of re2Patterns(4000)) {
      const fs = factors(g.source);
      if (fs === undefined) continue; // no factor proven: the rule keeps its widened pattern
      analysed++;
      const any = new RE2(`(?:${fs.join('|')})`);
      for (const text of samplesOf(g, 30)) {
        const m = g.re.exec(text);
        if (m === null) continue;
        matched++;
        expect(any.test(m[0] as unknown as Buffer), `${g.source} on ${JSON.stringify(text.toString())}: ${fs.join('|')}`).toBe(true);
      }
    }
    expect(analysed).toBeGreaterThan(80);
    expect(matched).toBeGreaterThan(400);
  });

  it('no match starts before the first factor occurrence ends minus the reach: on random inputs and every rule example', () => {
    /** Where the first occurrence of any factor ends (what Hyperscan reports), or -1. */
    const firstFactorEnd = (fs: string[], text: Buffer): number => {
      let min = -1;
      for (const f of fs) {
        const m = new RE2(f).exec(text);
        if (m !== null) {
          const end = m.index + (m[0] as unknown as Buffer).length;
          if (min < 0 || end < min) min = end;
        }
      }
      return min;
    };
    const check = (pattern: string, text: Buffer, where: string): boolean => {
      const a = analyzeFactors(pattern);
      if (a?.reach === undefined) return false;
      const fs = a.factors.map(factorSource);
      const re = new RE2(pattern, 'g');
      let any = false;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if ((m[0] as unknown as Buffer).length === 0) re.lastIndex++;
        const end = firstFactorEnd(fs, text);
        expect(end, where).toBeGreaterThanOrEqual(0);
        expect(m.index, `${where}: match at ${m.index}, first factor ends at ${end}, reach ${a.reach}`).toBeGreaterThanOrEqual(end - a.reach);
        any = true;
      }
      return any;
    };
    const cases: [string, string[]][] = [
      ['(?i)(?:api|tok)[_.-]?secret[0-9a-f]{4}', ['api', 'TOK', '_', 'secret', 'SeCrEt', 'a9f0', '9', 'x', 'é']],
      ['(foo|bar)baz[0-9]{2}', ['foo', 'bar', 'baz', '1', '2', 'x', 'ü']],
      ['AB[0-9a-f]{3,9}Q', ['AB', '1', 'a', 'f', 'Q', 'x']],
      ['xx(?:ab|cd)?yz+', ['xx', 'ab', 'cd', 'y', 'z', 'q']],
      ['é(?:ab|cd)Q[0-9]{3}', ['é', 'ab', 'cd', 'Q', '123', 'x']],
    ];
    // a factor that need not begin the match gives no reach: the search starts at 0
    expect(analyzeFactors('(?i)(?:fa|qd)[a-z0-9_.-]{0,4}key')?.reach).toBeUndefined();
    for (const [p, pieces] of cases) {
      let matched = 0;
      // pieces chosen so that each pattern matches in dozens of the 3,000 texts (expected)
      for (let i = 0; i < 3000; i++) {
        const text = Buffer.from(Array.from({ length: 10 }, () => pieces[randomInt(pieces.length)]!).join(''));
        if (check(p, text, p)) matched++;
      }
      expect(matched, p).toBeGreaterThan(0);
    }
    let withReach = 0;
    for (const r of loadRuleDir()) {
      if (r.composite !== undefined) continue;
      for (const example of r.examples) {
        // earlier text that holds a factor or not, then the example
        const text = Buffer.from(`${randomString(randomInt(0, 40))} ${r.id} x\n${example}\n${randomString(10)}`);
        if (check(r.pattern, text, r.id)) withReach++;
      }
    }
    expect(withReach).toBeGreaterThan(300);
  });

  it('widens counted repetitions for the Set, outside character classes only', () => {
    expect(widenRepetitions('a{3}[x{2}]b{0,4}c{2,}?')).toBe('a+[x{2}]b*c+');
  });
});

describe('broad candidates', () => {
  it('tells patterns RE2 can skip through (a literal first) from broad ones', () => {
    expect(startsWithLiteral('(ghp_[A-Za-z0-9]{36})')).toBe(true);
    expect(startsWithLiteral('(?P<secret>sk_[a-f0-9]{48})')).toBe(true);
    expect(startsWithLiteral('(?i)token\\s*=')).toBe(false);
    expect(startsWithLiteral('(a?bc)')).toBe(false);
    expect(startsWithLiteral('(?:abc|def)x')).toBe(false);
    expect(startsWithLiteral('[A-Z]abc')).toBe(false);
  });

  it('several broad candidates in a large input share one filtering pass, and every hit is still found', () => {
    const broadRule = (id: string, key: string): RuleDefinition =>
      rule({ id, pattern: `(?i)${key}[a-z_]{0,8}\\s*=\\s*"(?P<secret>[a-z0-9]{24})"`, boundary: 'none' });
    const defs = [broadRule('alpha', 'alphakey'), broadRule('beta', 'betakey'), broadRule('gamma', 'gammakey')];
    // on RE2 the pass finds factors (the keys); Hyperscan's supersets leave out 'beta' at once
    const compiled = compileRules(defs, { engine: 're2' });
    expect(compiled.rules.every((r) => r.broad)).toBe(true);
    const secret = () => randomString(24, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const a = secret();
    const c = secret();
    // all three keys appear (so the first pass selects all three), two of them in an assignment
    const filler = 'x = 1 // betakey is documented elsewhere\n'.repeat(1200);
    const text = `${filler}ALPHAKEY_PROD = "${a}"\n${filler}gammakey="${c}"\n`;
    expect(text.length).toBeGreaterThan(64 * 1024);
    // the first sighting of a combination runs every rule; from the second, one Set filters them
    for (let round = 0; round < 3; round++) {
      const hits = scanBuffer(compiled, Buffer.from(text));
      expect(hits.map((h) => [h.ruleId, h.secret]), `round ${round}`).toEqual([['alpha', a], ['gamma', c]]);
    }
    expect(compiled.exactFilters.size).toBeGreaterThan(0);
    const auto = compileRules(defs);
    if (auto.prefilter.engine === 'hyperscan') {
      expect(scanBuffer(auto, Buffer.from(text)).map((h) => [h.ruleId, h.secret])).toEqual([['alpha', a], ['gamma', c]]);
      expect(auto.exactFilters.size + auto.exactFilterSightings.size).toBe(0); // no Set needed, none built
    }
  });
});

describe('engine', () => {
  const compiled = compileRules([rule({ entropy: 3 }), rule({ id: 'ml', pattern: '(?s)(BEGIN [A-Z]+.{10,200}?END)', boundary: 'none' })]);
  const scan = (s: string | Buffer) => scanBuffer(compiled, Buffer.isBuffer(s) ? s : Buffer.from(s));

  it('reports line and UTF-16 column of the secret, not of the whole match', () => {
    const t = `tok_${randomString(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
    const [hit] = scan(`first\nconst é = "${t}";\n`);
    expect(hit).toMatchObject({ ruleId: 'r', secret: t, line: 2, column: 12, endLine: 2, endColumn: 12 + t.length });
  });

  it('checks word boundaries in code: no match inside a longer token', () => {
    const t = `tok_${randomString(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
    expect(scan(`x${t}`)).toHaveLength(0);
    expect(scan(`${t}9`)).toHaveLength(0);
    expect(scan(`"${t}"`)).toHaveLength(1);
  });

  it('drops placeholders, low-entropy values and inline-allowed lines', () => {
    expect(scan('tok_aaaaaaaaaaaaaaaaaaaa')).toHaveLength(0);
    expect(scan('tok_abababababababababab')).toHaveLength(0);
    const t = `tok_${randomString(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
    expect(scan(`k = "${t}" # leakhound:allow`)).toHaveLength(0);
    expect(scan(`k = "${t}" // gitleaks:allow`)).toHaveLength(0);
    expect(scan(`k = "${t}" # pragma: allowlist secret`)).toHaveLength(0);
    expect(scan(`k = "${t}"`)).toHaveLength(1);
  });

  it('reports multi-line secrets with their end line', () => {
    const [hit] = scan('x\nBEGIN KEY\nabcdefghij\nklmnop\nEND\n');
    expect(hit).toMatchObject({ ruleId: 'ml', line: 2, column: 1, endLine: 5, endColumn: 4 });
  });

  it('finds secrets across window boundaries exactly once, with correct lines', () => {
    const secrets: string[] = [];
    let text = '';
    for (let w = 1; w <= 6; w++) {
      const target = w * WINDOW_SIZE - 8 - w; // straddles the boundary by a different amount each time
      while (text.length < target - 1) text += text.length % 80 === 79 ? '\n' : '.';
      text += ' ';
      const t = `tok_${randomString(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
      secrets.push(t);
      text += t + ' ';
    }
    text += '.'.repeat(WINDOW_SIZE * 4);
    const hits = scan(text);
    expect(hits.map((h) => h.secret)).toEqual(secrets);
    for (const h of hits) {
      const before = text.slice(0, h.offset);
      expect(h.line).toBe(before.split('\n').length);
      expect(h.column).toBe(h.offset - before.lastIndexOf('\n'));
    }
  });

  it('entropy is Shannon bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(isPlaceholder('${GITHUB_TOKEN}')).toBe(true);
    expect(isPlaceholder('<your-token-here>')).toBe(true);
    expect(isPlaceholder('AKIAIOSFODNN7EXAMPLE')).toBe(true);
    expect(isPlaceholder('q8Jz0vK2mWn4Xr7T')).toBe(false);
  });
});

describe('decoding', () => {
  it('finds a secret base64-encoded in a Kubernetes Secret and percent-encoded in a URL, at the encoded location', async () => {
    const { loadRuleDir } = await import('../src/rules/load.js');
    const { githubToken } = await import('./helpers/secrets.js');
    const all = compileRules(loadRuleDir());
    const t = githubToken();
    const b64 = Buffer.from(t).toString('base64');
    const yaml = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ndata:\n  token: ${b64}\n`;
    const hits = scanBuffer(all, Buffer.from(yaml)).filter((h) => h.ruleId === 'github-pat-classic');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ secret: t, line: 6, column: 10, endColumn: 10 + b64.length, decodedFrom: 'base64' });
    // nested: base64 of "user:token" in a dockerconfigjson, itself base64 in a Secret
    const auth = Buffer.from(`bot:${t}`).toString('base64');
    const dockercfg = Buffer.from(JSON.stringify({ auths: { 'ghcr.io': { auth } } })).toString('base64');
    const nested = scanBuffer(all, Buffer.from(`kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${dockercfg}\n`));
    expect(nested.filter((h) => h.ruleId === 'github-pat-classic').map((h) => h.decodedFrom)).toEqual(['base64+base64']);
    const url = `https://x.example/cb?next=%2Fapi%3Ftoken%3D${t}%26a%3Db`;
    expect(scanBuffer(all, Buffer.from(url)).some((h) => h.ruleId === 'github-pat-classic' && h.secret === t)).toBe(true);
    // an integrity hash decodes to binary and is not rescanned
    expect(scanBuffer(all, Buffer.from(`data: sha512-${Buffer.alloc(64, 7).toString('base64')}`))).toEqual([]);
  });
});

describe('placeholders in long random values', () => {
  it('a word inside a long random value is chance, not a placeholder; a delimited one is', () => {
    const body = randomString(60) + 'FAkE' + randomString(60);
    expect(isPlaceholder(body)).toBe(false);
    expect(isPlaceholder(`${randomString(20)}xxxx${randomString(30)}`)).toBe(false);
    expect(isPlaceholder(`sk_live_your_key_here_${randomString(30)}`)).toBe(true);
    expect(isPlaceholder(`${randomString(50)}-example`)).toBe(true);
    expect(isPlaceholder('AKIAIOSFODNN7EXAMPLE')).toBe(true);
  });
});

describe('placeholders in short values', () => {
  it('a short word spelled by chance inside a key is not a placeholder', () => {
    // assembled at run time: the repository must not hold a key-shaped literal
    expect(isPlaceholder(['AKIA', 'DQKJ5', 'TODO', 'PS44JQE'].join(''))).toBe(false);
    expect(isPlaceholder('TODO')).toBe(true);
    expect(isPlaceholder('sk_live_xxxxxxxxxxxxxxxx')).toBe(true);
    expect(isPlaceholder('your-api-key-here')).toBe(true);
    expect(isPlaceholder('dummy-token')).toBe(true);
  });
});
