import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { ensureHistoryRepo } from './git-repo-gen.js';
import { cli, peakMB, timeCommand, type BenchResult } from './measure.js';

/**
 * The git cases of `npm run bench`:
 * - full history of a generated repository (>= 5,000 commits, >= 500 MB of unique blob content):
 *   unique blob bytes per second for `leakhound git` next to the raw `git cat-file
 *   --batch-all-objects --unordered --batch` on the same repository (target: >= 35% of raw);
 * - `--incremental` on an unchanged repository against the full scan (target: >= 10x faster);
 * - `git --staged` with 5 ordinary files, Node start included (target: < 300 ms);
 * - isomorphic-git reading the same blobs as `git cat-file`, on a small repository: why it is not
 *   the history reader.
 */
export async function benchGit(workDir: string): Promise<BenchResult[]> {
  fs.mkdirSync(workDir, { recursive: true });
  const results: BenchResult[] = [];
  const big = await ensureHistoryRepo(workDir, { commits: 5000, files: 200, fileBytes: 110_000, plant: 5 });

  // raw reference: git alone, output discarded
  const raw = timeCommand('sh', ['-c', 'git -C "$1" cat-file --batch-all-objects --unordered --batch > /dev/null', 'sh', big.dir], { repeat: 3, okCodes: [0] });
  const full = timeCommand(process.execPath, [cli, 'git', big.dir, '-f', 'json', '-q'], { repeat: 3, env: { LEAKHOUND_STATS: '1' } });
  const found = (JSON.parse(full.stdout) as { findings: unknown[] }).findings.length;
  const peak = peakMB(full.stderr);
  results.push({
    name: `git history: ${big.commits} commits, ${big.blobs} unique blobs (${found} findings, ${big.planted} planted)`,
    bytes: big.blobBytes,
    seconds: full.seconds,
    reference: { name: 'git cat-file --batch-all-objects --unordered --batch (raw read)', bytes: big.blobBytes, seconds: raw.seconds },
    ...(peak !== undefined ? { peakMB: peak } : {}),
  });

  // incremental: prime the state, then time an unchanged rerun against the full scan
  const state = join(workDir, 'git-incremental.state');
  fs.rmSync(state, { force: true });
  timeCommand(process.execPath, [cli, 'git', big.dir, '-q', '--incremental', '--state-file', state, '-f', 'json']);
  const incr = timeCommand(process.execPath, [cli, 'git', big.dir, '-q', '--incremental', '--state-file', state, '-f', 'json'], { repeat: 3 });
  results.push({
    name: 'git --incremental on the unchanged repository (ratio = speed-up over a full scan)',
    bytes: big.blobBytes,
    seconds: incr.seconds,
    reference: { name: 'full history scan', bytes: big.blobBytes, seconds: full.seconds },
  });

  results.push(stagedCase(workDir));
  results.push(await isomorphicCase(workDir));
  return results;
}

function git(dir: string, args: string[]): string {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/nonexistent/leakhound-bench-none', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Pre-commit latency: 5 staged files of ordinary size (4-12 KB of source), wall time of the whole process. */
function stagedCase(workDir: string): BenchResult {
  const dir = join(workDir, 'staged-repo');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q']);
  const src = fs.readFileSync(join(import.meta.dirname, '..', '..', 'src', 'scan', 'context.ts'), 'utf8');
  let bytes = 0;
  for (let i = 0; i < 5; i++) fs.writeFileSync(join(dir, `f${i}.ts`), src.slice(0, 4000 + i * 2000));
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'base']);
  for (let i = 0; i < 5; i++) {
    const body = src.slice(0, 4000 + i * 2000) + `\n// edit ${i}\n`;
    bytes += body.length;
    fs.writeFileSync(join(dir, `f${i}.ts`), body);
  }
  git(dir, ['add', '-A']);
  timeCommand(process.execPath, [cli, 'git', '--staged', '-q'], { cwd: dir }); // warm the rules cache
  const run = timeCommand(process.execPath, [cli, 'git', '--staged', '-q'], { cwd: dir, repeat: 7, okCodes: [0] });
  const node = timeCommand(process.execPath, ['-e', '0'], { repeat: 7, okCodes: [0] });
  return {
    name: `git --staged: 5 files, ${(bytes / 1024).toFixed(0)} KB staged, wall time with Node start (target < 0.300 s): ${run.seconds.toFixed(3)} s`,
    bytes,
    seconds: run.seconds,
    reference: { name: 'node -e 0 (bare Node start)', bytes, seconds: node.seconds },
  };
}

/** isomorphic-git against `git cat-file --batch` reading the same blobs of a small generated history. */
async function isomorphicCase(workDir: string): Promise<BenchResult> {
  const small = await ensureHistoryRepo(workDir, { commits: 300, files: 40, fileBytes: 20_000, plant: 1 });
  const list = git(small.dir, ['cat-file', '--batch-all-objects', '--unordered', '--batch-check=%(objectname) %(objecttype) %(objectsize)'])
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[1] === 'blob');
  const oids = list.map((f) => f[0]!);
  const bytes = list.reduce((n, f) => n + Number(f[2]), 0);
  const igit = (await import('isomorphic-git')).default;
  const cache = {};
  const t0 = process.hrtime.bigint();
  let got = 0;
  for (const oid of oids) got += (await igit.readBlob({ fs, dir: small.dir, oid, cache })).blob.length;
  const iso = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got !== bytes) throw new Error(`isomorphic-git read ${got} bytes, expected ${bytes}`);
  const t1 = process.hrtime.bigint();
  const r = spawnSync('git', ['-C', small.dir, 'cat-file', '--batch', '--buffer'], { input: oids.join('\n') + '\n', maxBuffer: 1 << 30 });
  const cat = Number(process.hrtime.bigint() - t1) / 1e9;
  if (r.status !== 0) throw new Error('git cat-file failed');
  return {
    name: `isomorphic-git readBlob, ${oids.length} blobs of a ${small.commits}-commit history (why it is not the history reader)`,
    bytes,
    seconds: iso,
    reference: { name: 'git cat-file --batch on the same blobs', bytes, seconds: cat },
  };
}
