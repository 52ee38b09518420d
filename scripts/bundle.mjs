// Bundles the compiled CLI (dist/src) into dist/bundle: one file per entry plus shared chunks.
// Node 20 has no compile cache, and resolving and loading ~120 small ES modules was about a fifth
// of a one-file scan's time (0.38 -> 0.31 s); see README, Benchmarks.
import { rolldown } from 'rolldown';
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';

const out = new URL('../dist/bundle/', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: {
    main: 'dist/src/cli/main.js',
    'git-staged-entry': 'dist/src/cli/commands/git-staged-entry.js',
    // pool.ts starts workers from './scan-worker.js' next to itself: same directory, same name
    'scan-worker': 'dist/src/workers/scan-worker.js',
  },
  platform: 'node',
  // native addons load their .node files relative to their own package
  external: ['re2', 'better-sqlite3', ...builtinModules, /^node:/],
  logLevel: 'warn',
});
await bundle.write({ dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'chunk-[hash].js' });
await bundle.close();
