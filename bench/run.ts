import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, type BenchResult } from './measure.js';

/**
 * `npm run bench`: every case reports MB/s for leakhound and, where there is one, for a reference run
 * on the same bytes in the same process tree, as a ratio. Numbers, not pass/fail: the README records them.
 */
type BenchFn = (workDir: string) => Promise<BenchResult[]>;

const CASES: [string, string, string][] = [
  ['dir', './dir.js', 'benchDir'],
  ['git', './git.js', 'benchGit'],
  ['image', './image.js', 'benchImage'],
  ['logs', './logs.js', 'benchLogs'],
  ['triggers', './triggers.js', 'benchTriggers'],
];

const mbps = (bytes: number, s: number) => bytes / 1024 / 1024 / s;

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const workDir = process.env['LEAKHOUND_BENCH_DIR'] ?? join(repoRoot, 'bench-data');
  mkdirSync(workDir, { recursive: true });
  const all: BenchResult[] = [];
  for (const [name, mod, fn] of CASES) {
    if (only.length > 0 && !only.includes(name)) continue;
    if (!existsSync(join(import.meta.dirname, mod))) continue;
    const loaded = (await import(mod)) as Record<string, BenchFn>;
    const f = loaded[fn];
    if (!f) continue;
    process.stderr.write(`bench: ${name}...\n`);
    const results = await f(join(workDir, name));
    for (const r of results) {
      all.push(r);
      const rate = mbps(r.bytes, r.seconds);
      let line = `${r.name}\n  leakhound: ${(r.bytes / 1048576).toFixed(1)} MB in ${r.seconds.toFixed(3)} s = ${rate.toFixed(1)} MB/s`;
      if (r.peakMB !== undefined) line += `, peak RSS ${r.peakMB} MB`;
      if (r.reference) {
        const ref = mbps(r.reference.bytes, r.reference.seconds);
        line += `\n  ${r.reference.name}: ${ref.toFixed(1)} MB/s  -> leakhound/reference = ${(rate / ref).toFixed(2)}`;
      }
      if (r.note) line += `\n  note: ${r.note}`;
      process.stdout.write(line + '\n');
    }
  }
  writeFileSync(join(workDir, 'results.json'), JSON.stringify(all, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(2);
});
