import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { RuleDefinition } from '../core/types.js';
import { toolVersion } from '../version.js';
import type { HyperscanStore } from '../engine/multipattern.js';

/**
 * The built-in rules, parsed once and kept as JSON in the user's cache directory: parsing the YAML
 * rule packs costs more than everything else `git --staged` does, and a pre-commit hook runs on every
 * commit. The key covers each pack's name, size and modification time and the tool version, so an
 * edited or upgraded pack is parsed again. Any cache problem falls back to parsing; nothing is fatal.
 * Rule examples are not kept: nothing secret-shaped is written to the user's home.
 */
export async function loadBuiltinRulesCached(): Promise<RuleDefinition[]> {
  const { builtinRulesDir, loadRuleDir } = await import('./load.js');
  let key: string;
  let file: string | undefined;
  let installPrefix = 'rules-';
  try {
    const { PREFILTER_VERSION } = await import('../engine/literals.js');
    const h = createHash('sha256').update(toolVersion).update(`\0${PREFILTER_VERSION}\0`).update(builtinRulesDir);
    for (const f of readdirSync(builtinRulesDir).sort()) {
      if (!f.endsWith('.yaml') && !f.endsWith('.yml')) continue;
      const st = statSync(join(builtinRulesDir, f));
      h.update(`\0${f}\0${st.size}\0${st.mtimeMs}`);
    }
    key = h.digest('hex').slice(0, 32);
    const dir = join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'leakhound');
    // one name prefix per install: an install replaces only its own older caches, never another's
    installPrefix = `rules-${createHash('sha256').update(builtinRulesDir).digest('hex').slice(0, 12)}-`;
    file = join(dir, `${installPrefix}${key}.json`);
    return JSON.parse(readFileSync(file, 'utf8')) as RuleDefinition[];
  } catch {
    /* no cache yet, or unreadable: parse */
  }
  const rules = loadRuleDir();
  const { deriveFactors, supersetOf } = await import('../engine/compile.js');
  for (const r of rules) {
    if (r.composite !== undefined) continue;
    deriveFactors(r);
    supersetOf(r);
  }
  if (file !== undefined) {
    try {
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      // Examples are for rule tests, not scanning; left out so the cache holds nothing secret-shaped.
      writeFileSync(tmp, JSON.stringify(rules.map((r) => ({ ...r, examples: [], negatives: [] }))));
      renameSync(tmp, file);
      // older versions of the packs are never read again
      for (const f of readdirSync(join(file, '..'))) {
        const ours = f.startsWith(installPrefix) && f.endsWith('.json');
        const legacy = /^rules-[0-9a-f]{32}\.json$/.test(f); // named before caches were kept per install
        if ((ours || legacy) && join(file, '..', f) !== file) rmSync(join(file, '..', f), { force: true });
      }
    } catch {
      /* read-only home: parse every time */
    }
  }
  return rules;
}

/** Compiled Hyperscan databases kept this many at a time (one per rule set a user scans with). */
const HYPERSCAN_CACHE_KEEP = 8;

/**
 * Compiled Hyperscan databases in the user's cache directory: compiling the rules' supersets takes
 * about 1.2 s, loading a stored database (2.7 MB) about 3 ms. Keyed by the patterns and Hyperscan's version;
 * the oldest beyond HYPERSCAN_CACHE_KEEP are removed. Any problem means compiling; nothing is fatal.
 */
export function hyperscanDiskStore(): HyperscanStore {
  // resolved on use, inside the try: a home directory that cannot be found only means compiling
  const dir = (): string => join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'leakhound');
  const file = (key: string): string => join(dir(), `hyperscan-${key}.db`);
  return {
    get(key) {
      try {
        return readFileSync(file(key));
      } catch {
        return undefined;
      }
    },
    put(key, bytes) {
      try {
        mkdirSync(dir(), { recursive: true, mode: 0o700 });
        const tmp = `${file(key)}.${process.pid}.tmp`;
        writeFileSync(tmp, bytes);
        renameSync(tmp, file(key));
        const stored = readdirSync(dir())
          .filter((f) => /^hyperscan-[0-9a-f]{32}\.db$/.test(f))
          .map((f) => ({ f, t: statSync(join(dir(), f)).mtimeMs }))
          .sort((a, b) => b.t - a.t);
        for (const { f } of stored.slice(HYPERSCAN_CACHE_KEEP)) rmSync(join(dir(), f), { force: true });
      } catch {
        /* read-only home: compile every time */
      }
    },
  };
}
