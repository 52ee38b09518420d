import { randomBytes, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Test credentials are generated at test time, never stored in the repository: a scan of this
 * repository must come back clean, and a pushed test file must not trip anyone's secret scanning.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomString(length: number, alphabet = BASE62): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

function base62(n: number, width: number): string {
  let s = '';
  do {
    s = BASE62[n % 62] + s;
    n = Math.floor(n / 62);
  } while (n > 0);
  return s.padStart(width, '0');
}

/** A GitHub token of the given kind (ghp, gho, ghu, ghs, ghr) with a valid CRC32 checksum. */
export function githubToken(kind: 'ghp' | 'gho' | 'ghu' | 'ghs' | 'ghr' = 'ghp'): string {
  const payload = randomString(30);
  return `${kind}_${payload}${base62(crc32(payload), 6)}`;
}

/** The same shape as githubToken but with a checksum that does not match. */
export function githubTokenBadChecksum(): string {
  const good = githubToken();
  const last = good.at(-1)!;
  return good.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
