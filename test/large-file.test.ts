import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';
import { WINDOW_SIZE } from '../src/engine/scan.js';

// A 2 GB single-line "minified" file: read in overlapping windows with bounded memory, and a
// secret that straddles two windows is found exactly once, at the right column.
const SIZE = 2 * 1024 * 1024 * 1024;
let dir: string;
let cleanup: () => void;
const secret = githubToken();
let secretOffset = 0;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  const fd = openSync(join(dir, 'bundle.min.js'), 'w');
  const unit = Buffer.from('var a=1;function b(c){return c*2};x.y="abc";'.repeat(1 << 14));
  // straddle the window boundary nearest the middle of the file
  secretOffset = Math.floor(SIZE / 2 / WINDOW_SIZE) * WINDOW_SIZE - 7;
  let written = 0;
  while (written < SIZE) {
    if (written <= secretOffset && secretOffset < written + unit.length) {
      const cut = secretOffset - written;
      writeSync(fd, unit.subarray(0, cut));
      writeSync(fd, Buffer.from(`;t="${secret}";`));
      writeSync(fd, unit.subarray(cut));
      written += unit.length + secret.length + 6;
      secretOffset += 4; // ;t=" before the secret
      continue;
    }
    writeSync(fd, unit);
    written += unit.length;
  }
  closeSync(fd);
}, 120_000);
afterAll(() => cleanup());

describe('a 2 GB one-line file', () => {
  it('is scanned with bounded memory and the straddling secret is found once', () => {
    const r = runCli(['dir', dir, '-f', 'json'], { env: { LEAKHOUND_STATS: '1' } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { locations: { line: number; column: number }[] }[]; summary: { bytesScanned: number } };
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]!.locations).toHaveLength(1);
    expect(report.findings[0]!.locations[0]).toMatchObject({ line: 1, column: secretOffset + 1 });
    expect(report.summary.bytesScanned).toBeGreaterThan(SIZE);
    const rss = Number(/maxRSS=(\d+)KB/.exec(r.stderr)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(500 * 1024);
  }, 180_000);
});
