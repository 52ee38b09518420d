import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { createHash } from 'node:crypto';
import type { RuleDefinition } from '../core/types.js';
import { packageRoot, toolVersion } from '../version.js';
import type { HyperscanStore } from '../engine/multipattern.js';

/**
 * Where scripts/install.sh leaves the parsed built-in rules and their compiled Hyperscan database:
 * found there, a scan with a fresh home directory (a CI job, a container) loads them instead of
 * parsing the packs and compiling (about 0.5 s and 1.2 s).
 */
export const SHIPPED_CACHE = join(packageRoot, 'dist', 'cache');

/**
 * The built-in rules, parsed once and kept as JSON in the user's cache directory: parsing the YAML
 * rule packs costs more than everything else `git --staged` does, and a pre-commit hook runs on every
 * commit. The key covers each pack's name and content and the tool version, so an edited or upgraded
 * pack is parsed again (content, not modification times: a fresh checkout of the same packs, as a CI
 * job makes, still finds the cache the install shipped). Missing from the cache, the rules are
 * looked for in `shipped` (read only: written by scripts/install.sh). Any cache problem falls back
 * to parsing; nothing is fatal. Rule examples are not kept: nothing secret-shaped is written to the
 * user's home.
 */
export async function loadBuiltinRulesCached(options: { dir?: string; shipped?: string } = {}): Promise<RuleDefinition[]> {
  const { builtinRulesDir, loadRuleDir } = await import('./load.js');
  let key: string;
  let file: string | undefined;
  let installPrefix = 'rules-';
  try {
    const { PREFILTER_VERSION } = await import('../engine/literals.js');
    const h = createHash('sha256').update(toolVersion).update(`\0${PREFILTER_VERSION}\0`);
    for (const f of readdirSync(builtinRulesDir).sort()) {
      if (!f.endsWith('.yaml') && !f.endsWith('.yml')) continue;
      h.update(`\0${f}\0`).update(readFileSync(join(builtinRulesDir, f)));
    }
    key = h.digest('hex').slice(0, 32);
    const dir = options.dir ?? join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'leakhound');
    // one name prefix per install: an install replaces only its own older caches, never another's
    installPrefix = `rules-${createHash('sha256').update(builtinRulesDir).digest('hex').slice(0, 12)}-`;
    const name = `${installPrefix}${key}.json`;
    file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // the install's copy, kept in the user's cache from then on; found by key alone, since the
      // install may have been built in another directory (a release's prebuilt dist/)
      const shipped = options.shipped ?? SHIPPED_CACHE;
      const copy = readdirSync(shipped).find((f) => f.startsWith('rules-') && f.endsWith(`-${key}.json`));
      if (copy === undefined) throw new Error('not shipped');
      text = readFileSync(join(shipped, copy), 'utf8');
      keepRules(file, installPrefix, text);
    }
    // the packs' paths as this install has them (the cache may come from one built elsewhere)
    return (JSON.parse(text) as RuleDefinition[]).map((r) => (r.file === undefined ? r : { ...r, file: join(builtinRulesDir, basename(r.file)) }));
  } catch {
    /* no cache yet, or unreadable: parse */
  }
  const rules = loadRuleDir();
  const { deriveAnalyses } = await import('../engine/compile.js');
  for (const r of rules) if (r.composite === undefined) deriveAnalyses(r);
  // Examples are for rule tests, not scanning; left out so the cache holds nothing secret-shaped.
  if (file !== undefined) keepRules(file, installPrefix, JSON.stringify(rules.map((r) => ({ ...r, examples: [], negatives: [] }))));
  return rules;
}

/** Keeps the parsed rules in `file`, and removes this install's older versions (read-only home: nothing). */
function keepRules(file: string, installPrefix: string, text: string): void {
  if (!keepQuietly(file, text)) return;
  try {
    // older versions of the packs are never read again
    for (const f of readdirSync(join(file, '..'))) {
      const ours = f.startsWith(installPrefix) && f.endsWith('.json');
      const legacy = /^rules-[0-9a-f]{32}\.json$/.test(f); // named before caches were kept per install
      if ((ours || legacy) && join(file, '..', f) !== file) rmSync(join(file, '..', f), { force: true });
    }
  } catch {
    /* unreadable directory: older versions stay */
  }
}

/** Writes a cache file whole or not at all; false when it could not (a read-only home is no error). */
function keepQuietly(file: string, data: string | Uint8Array): boolean {
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, file);
    return true;
  } catch {
    return false;
  }
}

/** Compiled Hyperscan databases kept this many at a time (one per rule set a user scans with). */
const HYPERSCAN_CACHE_KEEP = 8;

/**
 * Compiled Hyperscan databases in the user's cache directory: compiling the rules' supersets takes
 * about 1.2 s, loading a stored database (2.7 MB) about 3 ms. Keyed by the patterns and Hyperscan's
 * version; the oldest beyond HYPERSCAN_CACHE_KEEP are removed. A database not in the cache is looked
 * for in `shipped` (read only: the install's). Any problem means compiling; nothing is fatal.
 */
export function hyperscanDiskStore(options: { dir?: string; shipped?: string } = {}): HyperscanStore {
  // resolved on use, inside the try: a home directory that cannot be found only means compiling
  const dir = (): string => options.dir ?? join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'leakhound');
  const name = (key: string): string => `hyperscan-${key}.db`;
  const file = (key: string): string => join(dir(), name(key));
  const read = (path: () => string): Uint8Array | undefined => {
    try {
      return readFileSync(path());
    } catch {
      return undefined;
    }
  };
  const put = (key: string, bytes: Uint8Array): void => {
    // a read-only home: compile every time (the install's database aside)
    if (!keepQuietly(file(key), bytes)) return;
    try {
      const stored = readdirSync(dir())
        .filter((f) => /^hyperscan-[0-9a-f]{32}\.db$/.test(f))
        .map((f) => ({ f, t: statSync(join(dir(), f)).mtimeMs }))
        .sort((a, b) => b.t - a.t);
      for (const { f } of stored.slice(HYPERSCAN_CACHE_KEEP)) rmSync(join(dir(), f), { force: true });
    } catch {
      /* unreadable directory: older databases stay */
    }
  };
  return {
    get(key) {
      const own = read(() => file(key));
      if (own !== undefined) return own;
      // the install's database, kept in the user's cache from then on
      const shipped = read(() => join(options.shipped ?? SHIPPED_CACHE, name(key)));
      if (shipped !== undefined) put(key, shipped);
      return shipped;
    },
    put,
  };
}
