import { describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import RE2 from 're2';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMatcher, nativeDatabaseOf, type HyperscanStore, type MultiPattern } from '../src/engine/multipattern.js';
import { nativeAddon, NativeFileStatus } from '../src/native/addon.js';
import { compileRules } from '../src/engine/compile.js';
import { DECODE_TRIGGER_PATTERNS } from '../src/engine/decode.js';
import { loadRuleDir } from '../src/rules/load.js';
import { hyperscanDiskStore, loadBuiltinRulesCached } from '../src/rules/cache.js';
import { cleanBatchJs } from '../src/sources/logs/clean.js';
import { randomString } from './helpers/secrets.js';
import { tempDir } from './helpers/cli.js';

// .ci/run builds the addon and sets this: there the Hyperscan tests must run, never skip
const REQUIRED = process.env['LEAKHOUND_TEST_REQUIRE_HYPERSCAN'] === '1';
const addon = nativeAddon();
if (REQUIRED && addon === undefined) throw new Error('the native addon is not built (scripts/install.sh builds it when libhyperscan-dev is installed)');
const describeNative = addon === undefined ? describe.skip : describe;

const rules = loadRuleDir();
const compiled = compileRules(rules);
const patterns: MultiPattern[] = [
  ...compiled.rules.map((r) => ({ source: r.def.prefilter!, hyperscanExact: true })),
  ...DECODE_TRIGGER_PATTERNS.map((source) => ({ source, hyperscanExact: true })),
];

/** Text around which the two engines could part: non-ASCII letters, \v, Kelvin sign, long s, broken UTF-8. */
function edgeInput(): Buffer {
  const pieces = ['token', 'SECRET', 'kind: secret', 'ſecret', 'KIND', '\u212aind: secret', '\v', ' = ', 'é', '😀', '%41%', 'ghp_', 'AKIA', 'xoxb-', '"auth":'];
  let s = '';
  for (let i = 0; i < 40; i++) s += Math.random() < 0.5 ? pieces[randomInt(pieces.length)]! : randomString(randomInt(1, 30));
  return Buffer.from(s);
}

describeNative('multi-pattern pass on Hyperscan', () => {
  const hs = buildMatcher(patterns);
  const re2 = buildMatcher(patterns, { engine: 're2' });

  it('uses Hyperscan when the addon is built, and RE2 when asked', () => {
    expect(hs.engine).toBe('hyperscan');
    expect(re2.engine).toBe('re2');
    expect(hs.hyperscanDatabase?.bytes.length).toBeGreaterThan(1000);
  });

  it('gives the same answer as RE2::Set on every rule example and negative, and on edge-case text', () => {
    let inputs = 0;
    let found = 0;
    for (const r of rules) {
      for (const text of [...r.examples, ...r.negatives]) {
        const buf = Buffer.from(text);
        const a = hs.match(buf);
        expect(a, `${r.id}: ${JSON.stringify(text).slice(0, 60)}`).toEqual(re2.match(buf));
        inputs++;
        found += a.length;
      }
    }
    for (let i = 0; i < 2000; i++) {
      const buf = edgeInput();
      expect(hs.match(buf), buf.toString()).toEqual(re2.match(buf));
    }
    expect(inputs).toBeGreaterThan(600);
    // where each pattern first ended: a match of it ends exactly there, and none ends earlier
    const ends = new Uint32Array(patterns.length);
    let checked = 0;
    for (const r of rules.slice(0, 60)) {
      for (const text of r.examples) {
        const buf = Buffer.from(`${randomString(20)} ${text} ${text}`);
        const ids = hs.match(buf, ends);
        ids.forEach((id, k) => {
          const end = ends[k]!;
          const endsHere = new RE2(`(?:${patterns[id]!.source})$`);
          expect(endsHere.test(buf.subarray(0, end)), `${patterns[id]!.source} ends at ${end}`).toBe(true);
          for (let e = 1; e < end; e++) expect(endsHere.test(buf.subarray(0, e))).toBe(false);
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(found).toBeGreaterThan(inputs / 2); // the examples do select their rules
  });

  it('hands input that is not UTF-8 to RE2, with the same answer', () => {
    const latin1 = Buffer.concat([Buffer.from('caf\xe9 '), Buffer.from(`ghp_${randomString(36)} token = x`)]);
    latin1[3] = 0xe9; // a lone Latin-1 byte: invalid UTF-8
    expect(nativeAddon()!.Database.prototype.match.call(nativeDatabaseOf(hs), latin1)).toBeNull();
    const ids = hs.match(latin1);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toEqual(re2.match(latin1));
  });

  it('reads a non-ASCII character of a factor as one character, as RE2 does', () => {
    // factorSource writes non-ASCII characters as \x{...}: a code point in both engines' UTF-8 mode
    const mine: MultiPattern[] = [{ source: 'caf\\x{e9}[0-9]', hyperscanExact: true }, { source: '[\\x{e9}\\x{fc}]x', hyperscanExact: true }];
    const a = buildMatcher(mine);
    const b = buildMatcher(mine, { engine: 're2' });
    expect(a.engine).toBe('hyperscan');
    for (const text of ['café1', 'cafe1', 'café', 'üx', 'éx', 'ex', 'caf\u00c3\u00a91']) {
      expect(a.match(Buffer.from(text)), text).toEqual(b.match(Buffer.from(text)));
    }
    expect(a.match(Buffer.from('café1 üx'))).toEqual([0, 1]);
  });

  it('moves a pattern Hyperscan refuses to RE2 and keeps the others on Hyperscan', () => {
    // an empty-matching pattern compiles in RE2 but not in Hyperscan
    const m = buildMatcher([
      { source: 'alpha[0-9]', hyperscanExact: true },
      { source: 'x*', hyperscanExact: true },
      { source: 'beta', hyperscanExact: false },
    ]);
    expect(m.engine).toBe('hyperscan');
    expect(m.match(Buffer.from('alpha7 beta'))).toEqual([0, 1, 2]);
    expect(m.match(Buffer.from('alpha beta'))).toEqual([1, 2]);
    expect(m.match(Buffer.from(''))).toEqual([1]);
  });

  it('stores the compiled database, loads it again, and recompiles a damaged one', () => {
    const stored = new Map<string, Uint8Array>();
    let puts = 0;
    const store: HyperscanStore = { get: (k) => stored.get(k), put: (k, b) => (puts++, stored.set(k, b)) };
    const mine: MultiPattern[] = [{ source: `only${randomString(8)}`, hyperscanExact: true }];
    const first = buildMatcher(mine, { store });
    expect(puts).toBe(1);
    const key = [...stored.keys()][0]!;
    buildMatcher(mine, { store });
    expect(puts).toBe(1); // second build: from the process's own memo, then from the store
    stored.set(key, Buffer.from('not a database'));
    const again = buildMatcher([...mine, { source: 'other', hyperscanExact: true }], { store }).engine;
    expect(again).toBe('hyperscan');
    expect(first.match(Buffer.from(`x ${mine[0]!.source} y`))).toEqual([0]);
  });

  it('reads, sniffs and matches a batch of files natively, as the JavaScript path would', () => {
    const { dir, cleanup } = tempDir();
    try {
      const token = `ghp_${randomString(36)}`;
      writeFileSync(join(dir, 'clean.txt'), 'nothing here\n');
      writeFileSync(join(dir, 'empty.txt'), '');
      writeFileSync(join(dir, 'hit.txt'), `const t = "${token}";\n`);
      writeFileSync(join(dir, 'binary.bin'), Buffer.concat([Buffer.from(token), Buffer.from([0, 1, 2])]));
      writeFileSync(join(dir, 'latin1.txt'), Buffer.concat([Buffer.from([0xe9, 0x20]), Buffer.from(token)]));
      writeFileSync(join(dir, 'large.txt'), 'a'.repeat(1000));
      mkdirSync(join(dir, 'a-dir'));
      symlinkSync(join(dir, 'missing'), join(dir, 'dangling'));
      const names = ['clean.txt', 'empty.txt', 'hit.txt', 'binary.bin', 'latin1.txt', 'large.txt', 'a-dir', 'dangling'];
      const batch = nativeDatabaseOf(hs)!.scanFiles(names.map((n) => join(dir, n)), 999, 8000);
      expect([...batch.status]).toEqual([
        NativeFileStatus.Clean, NativeFileStatus.Clean, NativeFileStatus.Candidates, NativeFileStatus.Binary,
        NativeFileStatus.Candidates, NativeFileStatus.Large, NativeFileStatus.NotAFile, NativeFileStatus.Unreadable,
      ]);
      expect([...batch.bytes.slice(0, 3)]).toEqual([13, 0, token.length + 14]);
      const details = new Map(batch.details.map((d) => [d[0], d.slice(1)]));
      const [hitBytes, hitIds] = details.get(2)!;
      expect(String(hitBytes)).toContain(token);
      expect(hitIds).toEqual(re2.match(hitBytes as Buffer));
      expect(details.get(4)![1]).toBeNull(); // not UTF-8: RE2 decides
      expect(details.get(7)).toEqual(['ENOENT']);
    } finally {
      cleanup();
    }
  });
});

describeNative('build-log cleaner, native', () => {
  const pieces = [
    '2024-05-01T12:00:00.1234567Z ', '2024-05-01T12:00:00Z ', '2024-05-01T12:00:00.123456Z 01O ', '2024-05-01T12:00:00.123456Z 0aE+ ',
    '2024-05-01T12:00:00.12', '\ufeff', '\x1b[32m', '\x1b[0K', '\x1b]0;title\x07', '\x1b]8;;x\x1b\\', '\x1b', '\x1b[', '\r', '\r\n', '\n',
    '\0', 'token=', 'ghp_', 'é', 'x', ' ', '1234-', '9', 'Z ', '00O ',
  ];
  it('gives the same bytes as the JavaScript cleaner, batch by batch', () => {
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: randomInt(0, 40) }, () => pieces[randomInt(pieces.length)]!).join('');
      const raw = Buffer.from(text);
      for (const mid of [false, true]) {
        const a = cleanBatchJs(raw, mid);
        const b = nativeAddon()!.cleanLogBatch(raw, mid);
        expect(b.equals(a), JSON.stringify(text)).toBe(true);
        // owned and exact: it crosses threads by transfer
        expect(b.byteOffset === 0 && b.byteLength === b.buffer.byteLength).toBe(true);
      }
    }
  });
});

describe('compiled databases on disk', () => {
  it('are kept in the cache directory, the newest eight, and anything unreadable is a miss', () => {
    const { dir, cleanup } = tempDir();
    const before = process.env['XDG_CACHE_HOME'];
    process.env['XDG_CACHE_HOME'] = dir;
    try {
      const store = hyperscanDiskStore();
      expect(store.get('0'.repeat(32))).toBeUndefined();
      const keys = Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(32, '0'));
      keys.forEach((k, i) => {
        store.put(k, Buffer.from(`database ${i}`));
        // distinct modification times, oldest first
        utimesSync(join(dir, 'leakhound', `hyperscan-${k}.db`), 1_000_000 + i, 1_000_000 + i);
      });
      store.put(keys[9]!, Buffer.from('database 9'));
      const kept = readdirSync(join(dir, 'leakhound')).sort();
      expect(kept).toHaveLength(8);
      expect(kept).not.toContain(`hyperscan-${keys[0]}.db`);
      expect(String(store.get(keys[9]!))).toBe('database 9');
    } finally {
      if (before === undefined) delete process.env['XDG_CACHE_HOME'];
      else process.env['XDG_CACHE_HOME'] = before;
      cleanup();
    }
  });
});

describe("the install's caches (scripts/precompile.mjs)", () => {
  it('fill an empty user cache: the database and the parsed rules are read from the install and kept', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const shipped = join(dir, 'shipped');
      const user = join(dir, 'user');
      mkdirSync(shipped);
      const key = 'ab'.repeat(16);
      writeFileSync(join(shipped, `hyperscan-${key}.db`), 'database');
      const store = hyperscanDiskStore({ dir: user, shipped });
      expect(String(store.get(key))).toBe('database');
      expect(readdirSync(user)).toEqual([`hyperscan-${key}.db`]);
      expect(store.get('cd'.repeat(16))).toBeUndefined();

      const parsed = await loadBuiltinRulesCached({ dir: shipped, shipped });
      const [rulesFile] = readdirSync(shipped).filter((f) => f.startsWith('rules-'));
      expect(rulesFile).toBeDefined();
      const fromInstall = await loadBuiltinRulesCached({ dir: user, shipped });
      expect(fromInstall.map((r) => r.id)).toEqual(parsed.map((r) => r.id));
      expect(readFileSync(join(user, rulesFile!), 'utf8')).toBe(readFileSync(join(shipped, rulesFile!), 'utf8'));
    } finally {
      cleanup();
    }
  });
});

describe('multi-pattern pass on RE2', () => {
  it('answers in ascending pattern order, across the groups slow patterns get', () => {
    const m = buildMatcher(
      [{ source: 'zeta', hyperscanExact: false }, { source: 'a.*b', hyperscanExact: false }, { source: 'alpha', hyperscanExact: false }],
      { engine: 're2', re2Partition: (indices) => [indices.filter((i) => i !== 1), [1]] },
    );
    expect(m.engine).toBe('re2');
    expect(m.match(Buffer.from('alpha zeta ab'))).toEqual([0, 1, 2]);
    expect(m.match(Buffer.from('nothing'))).toEqual([]);
  });
});
