import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, githubToken } from './random.js';
import { cli, peakMB, timeCommand, type BenchResult } from './measure.js';

/**
 * `leakhound logs` on a generated 500 MB GitHub Actions style log (timestamps on every line, ANSI
 * colour on some, a few hundred planted tokens), read as a file and through standard input, and
 * `logs --mask` as a filter. The reference is `leakhound dir` on the same bytes split into 1 MB files:
 * the core's directory-scan rate.
 */

const SIZE = 500 * 1024 * 1024;
const VERSION = 1;



const MESSAGES = [
  'npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.',
  '\x1b[36;1mRun npm ci\x1b[0m',
  'added 1432 packages, and audited 1433 packages in 21s',
  '\x1b[32m✓\x1b[39m src/engine/scan.test.ts (42 tests) 318ms',
  'Compiling leakhound v0.1.0 (/home/runner/work/leakhound/leakhound)',
  '##[group]Run actions/checkout@v4',
  'Downloading https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz',
  '   Compiling serde_json v1.0.128',
  'Step 7/12 : RUN make -j4 all',
  ' ---> Running in 4c1d2e3f5a6b',
];

function ensureLog(workDir: string): { log: string; split: string; bytes: number; planted: number } {
  const log = join(workDir, `build-v${VERSION}.log`);
  const split = join(workDir, `build-v${VERSION}-split`);
  const marker = join(workDir, `build-v${VERSION}.json`);
  if (existsSync(marker) && existsSync(log) && existsSync(split)) return JSON.parse(readFileSync(marker, 'utf8')) as { log: string; split: string; bytes: number; planted: number };
  const r = new Rng(99);
  rmSync(split, { recursive: true, force: true });
  mkdirSync(split, { recursive: true });
  const fd = openSync(log, 'w');
  let bytes = 0;
  let planted = 0;
  let part = 0;
  let sec = 0;
  writeSync(fd, '\uFEFF');
  bytes += 3;
  while (bytes < SIZE) {
    const lines: string[] = [];
    for (let i = 0; i < 10000; i++) {
      sec++;
      const ts = `2024-05-01T${String(Math.floor(sec / 3600) % 24).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}.${String(r.int(1e7)).padStart(7, '0')}Z `;
      const msg = r.int(2000) === 0 ? ((planted++, `export GITHUB_TOKEN=${githubToken(r)}`)) : MESSAGES[r.int(MESSAGES.length)]!;
      lines.push(ts + msg);
    }
    const chunk = lines.join('\n') + '\n';
    writeSync(fd, chunk);
    writeFileSync(join(split, `part${String(part++).padStart(4, '0')}.log`), chunk);
    bytes += Buffer.byteLength(chunk);
  }
  closeSync(fd);
  const info = { log, split, bytes: statSync(log).size, planted };
  writeFileSync(marker, JSON.stringify(info));
  return info;
}

export async function benchLogs(workDir: string): Promise<BenchResult[]> {
  mkdirSync(workDir, { recursive: true });
  const { log, split, bytes, planted } = ensureLog(workDir);
  const env = { LEAKHOUND_STATS: '1' };
  timeCommand(process.execPath, [cli, 'dir', split, '-f', 'json', '-q']);
  const dir = timeCommand(process.execPath, [cli, 'dir', split, '-f', 'json', '-q'], { repeat: 3 });
  const reference = { name: `leakhound dir on the same bytes (${readdirSync(split).length} files)`, bytes, seconds: dir.seconds };
  const results: BenchResult[] = [];
  const file = timeCommand(process.execPath, [cli, 'logs', log, '-f', 'json', '-q'], { repeat: 3, env });
  const found = (JSON.parse(file.stdout) as { findings: unknown[] }).findings.length;
  results.push({ name: `logs: 500 MB GitHub Actions log, file (${found} findings, ${planted} planted)`, bytes, seconds: file.seconds, reference, ...(peakMB(file.stderr) !== undefined ? { peakMB: peakMB(file.stderr)! } : {}) });
  const stdin = timeCommand('sh', ['-c', `exec "${process.execPath}" "${cli}" logs -f json -q < "${log}"`], { repeat: 2, env });
  results.push({ name: 'logs: the same log through standard input', bytes, seconds: stdin.seconds, reference, ...(peakMB(stdin.stderr) !== undefined ? { peakMB: peakMB(stdin.stderr)! } : {}) });
  const mask = timeCommand('sh', ['-c', `exec "${process.execPath}" "${cli}" logs --mask -q < "${log}" > /dev/null`], { repeat: 1, env, okCodes: [0] });
  results.push({ name: 'logs --mask: the same log as a filter (main thread only)', bytes, seconds: mask.seconds, reference, ...(peakMB(mask.stderr) !== undefined ? { peakMB: peakMB(mask.stderr)! } : {}) });
  return results;
}
