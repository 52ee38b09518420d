/**
 * What a log line looks like once the machinery around the text is removed: the UTF-8 BOM, the
 * timestamp prefix GitHub Actions (`2024-01-01T00:00:00.0000000Z `) and GitLab
 * (`2024-01-01T00:00:00.000000Z 00O `) put on every line, ANSI escape sequences (colours, cursor
 * moves, GitLab's section markers) and the CR of a CRLF ending. Newlines are kept one for one, so a
 * line number in the cleaned text is the line number in the log. A CR inside a line (progress bars
 * redrawn in place) stays: it separates words like a space would.
 */

import { ownedCopy } from '../archive/stream.js';
import { nativeAddon } from '../../native/addon.js';

const NL = 0x0a;
const CR = 0x0d;
const ESC = 0x1b;
const BEL = 0x07;

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;
const isHex = (b: number | undefined): boolean => b !== undefined && (isDigit(b) || (b >= 0x61 && b <= 0x66));

/** Length of `YYYY-MM-DDTHH:MM:SS[.fraction]Z ` at p, else 0. */
function timestampLength(b: Uint8Array, p: number, e: number): number {
  if (e - p < 21) return 0;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]) if (!isDigit(b[p + i])) return 0;
  if (b[p + 4] !== 0x2d || b[p + 7] !== 0x2d || b[p + 10] !== 0x54 || b[p + 13] !== 0x3a || b[p + 16] !== 0x3a) return 0;
  let q = p + 19;
  if (b[q] === 0x2e) {
    q++;
    while (q < e && isDigit(b[q])) q++;
  }
  if (b[q] !== 0x5a || b[q + 1] !== 0x20) return 0;
  return q + 2 - p;
}

/** Bytes of BOM and CI timestamp prefix at the start of the line [s, e). */
export function prefixLength(b: Uint8Array, s: number, e: number): number {
  let p = s;
  if (b[p] === 0xef && b[p + 1] === 0xbb && b[p + 2] === 0xbf) p += 3;
  const t = timestampLength(b, p, e);
  if (t === 0) return p - s;
  p += t;
  // GitLab: two hex digits of stream number, O(ut) or E(rr), an optional '+' (continued line), a space
  if (isHex(b[p]) && isHex(b[p + 1]) && (b[p + 2] === 0x4f || b[p + 2] === 0x45)) {
    let q = p + 3;
    if (b[q] === 0x2b) q++;
    if (b[q] === 0x20 && q < e) p = q + 1;
  }
  return p - s;
}

/** Cheap test: could this line start with a BOM or a timestamp? */
function mayHavePrefix(b: Uint8Array, s: number): boolean {
  return (isDigit(b[s]) && b[s + 4] === 0x2d) || b[s] === 0xef;
}

/** End of the ANSI escape sequence starting at p (b[p] === ESC), exclusive, never past e. */
function escapeEnd(b: Uint8Array, p: number, e: number): number {
  const k = b[p + 1];
  if (k === 0x5b) {
    // CSI: parameters and intermediates, then one final byte 0x40-0x7e
    let q = p + 2;
    while (q < e && (b[q]! < 0x40 || b[q]! > 0x7e)) q++;
    return Math.min(q + 1, e);
  }
  if (k === 0x5d) {
    // OSC: until BEL or ESC \
    let q = p + 2;
    while (q < e) {
      if (b[q] === BEL) return q + 1;
      if (b[q] === ESC && b[q + 1] === 0x5c) return q + 2;
      q++;
    }
    return e;
  }
  return Math.min(p + 2, e);
}

/**
 * Cleans the line [s, e) (without its newline) into out at o; returns the new end. With `map`,
 * pushes for each cleaned byte the raw offset it came from.
 */
export function cleanLine(b: Uint8Array, s: number, e: number, atLineStart: boolean, out: Uint8Array, o: number, map?: number[], mayHaveEscape = true): number {
  let p = atLineStart ? s + prefixLength(b, s, e) : s;
  if (e > p && b[e - 1] === CR) e--;
  while (p < e) {
    let esc = p;
    if (mayHaveEscape) while (esc < e && b[esc] !== ESC) esc++;
    else esc = e;
    if (map) for (let i = p; i < esc; i++) map.push(i);
    out.set(b.subarray(p, esc), o);
    o += esc - p;
    if (esc >= e) break;
    p = escapeEnd(b, esc, e);
  }
  return o;
}

/**
 * Cleans a batch of whole lines (the first may be the middle of a long line: `startsMidLine`).
 * Natively when the addon is built: cleaning took a third of the workers' time on a 500 MB Actions
 * log (every line has a timestamp). Same bytes either way (a test compares them).
 */
export function cleanBatch(raw: Buffer, startsMidLine: boolean): Buffer {
  const addon = nativeAddon();
  return addon !== undefined ? addon.cleanLogBatch(raw, startsMidLine) : cleanBatchJs(raw, startsMidLine);
}

/**
 * cleanBatch in JavaScript. Lines needing no change are copied in runs; NUL bytes become spaces so
 * a stray NUL does not make the batch look binary.
 */
export function cleanBatchJs(raw: Buffer, startsMidLine: boolean): Buffer {
  const out = Buffer.allocUnsafeSlow(raw.length);
  let o = 0;
  let run = 0;
  let nextEsc = raw.indexOf(ESC);
  let nextCr = raw.indexOf(CR);
  let s = 0;
  let first = true;
  while (s < raw.length) {
    const nl = raw.indexOf(NL, s);
    const e = nl === -1 ? raw.length : nl;
    const atStart = !(first && startsMidLine);
    first = false;
    const hasEsc = nextEsc !== -1 && nextEsc < e;
    if (hasEsc || (atStart && mayHavePrefix(raw, s)) || (nextCr !== -1 && nextCr < e)) {
      raw.copy(out, o, run, s);
      o += s - run;
      o = cleanLine(raw, s, e, atStart, out, o, undefined, hasEsc);
      if (nl !== -1) out[o++] = NL;
      run = e + 1;
      if (nextEsc !== -1 && nextEsc < e) nextEsc = raw.indexOf(ESC, e);
      if (nextCr !== -1 && nextCr < e) nextCr = raw.indexOf(CR, e);
    }
    s = e + 1;
  }
  if (run < raw.length) {
    raw.copy(out, o, run, raw.length);
    o += raw.length - run;
  }
  for (let z = out.indexOf(0); z !== -1 && z < o; z = out.indexOf(0, z + 1)) out[z] = 0x20;
  // hand workers a buffer that owns its memory (transferred, not copied)
  return o === raw.length ? out : ownedCopy(out.subarray(0, o));
}
