import { crc32 } from 'node:zlib';

/** Deterministic generators shared by the benches: the same seed gives the same data every run. */

export const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** xorshift32: fast and deterministic. */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9; // xorshift never leaves 0
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 0x100000000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  str(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

/** n written in base62 (0-9A-Za-z), left-padded to `width`. */
export function base62(n: number, width: number): string {
  let s = '';
  do {
    s = B62[n % 62] + s;
    n = Math.floor(n / 62);
  } while (n > 0);
  return s.padStart(width, '0');
}

/** A GitHub classic token with a valid CRC32 checksum, as the rules check it. */
export function githubToken(r: Rng): string {
  const payload = r.str(30, B62);
  return `ghp_${payload}${base62(crc32(payload), 6)}`;
}
