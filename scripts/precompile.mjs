// Parses the built-in rules and compiles their Hyperscan database into dist/cache (SHIPPED_CACHE in
// src/rules/cache.ts), so that a scan with a fresh home directory (a CI job, a container) loads them
// instead of parsing the packs and compiling (about 0.5 s and 1.2 s). Run by scripts/install.sh once
// dist/ is built; without the addon it keeps the parsed rules only.
import { hyperscanDiskStore, loadBuiltinRulesCached, SHIPPED_CACHE } from '../dist/src/rules/cache.js';
import { compileRules } from '../dist/src/engine/compile.js';
import { mkdirSync } from 'node:fs';

// readable by every user of a shared install (the user cache is private: 0700)
mkdirSync(SHIPPED_CACHE, { recursive: true, mode: 0o755 });

const rules = await loadBuiltinRulesCached({ dir: SHIPPED_CACHE, shipped: SHIPPED_CACHE });
const store = hyperscanDiskStore({ dir: SHIPPED_CACHE, shipped: SHIPPED_CACHE });
const compiled = compileRules(rules, { hyperscanStore: store });
const db = compiled.prefilter.hyperscanDatabase;
if (compiled.prefilter.engine === 'hyperscan' && db !== undefined) {
  console.log(`leakhound: built-in rules parsed, Hyperscan database ready (${(db.bytes.length / 2 ** 20).toFixed(1)} MB)`);
} else console.log('leakhound: built-in rules parsed (no Hyperscan: scans use RE2)');
