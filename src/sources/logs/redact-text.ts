import type { Hit } from '../../core/types.js';
import type { CompiledRuleSet } from '../../engine/compile.js';
import { scanBuffer } from '../../engine/scan.js';
import { redact } from '../../findings/redact.js';

/** Byte ranges [start, end) of hits in the scanned buffer, sorted and merged. */
export function hitRanges(hits: readonly Hit[]): [number, number][] {
  return mergeRanges(hits.map((h) => [h.offset, h.offset + Buffer.byteLength(h.secret)] as [number, number]));
}

/** Sorted, overlapping ranges merged. */
export function mergeRanges(input: [number, number][]): [number, number][] {
  const ranges = [...input].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/**
 * The text with every secret the rules find replaced by its redacted preview: for metadata that
 * reports carry verbatim (an image's history step), which must never print a secret.
 */
export function redactSecretsIn(compiled: CompiledRuleSet, text: string): string {
  const buf = Buffer.from(text, 'utf8');
  const hits = scanBuffer(compiled, buf);
  if (hits.length === 0) return text;
  const ranges = hitRanges(hits);
  let out = '';
  let pos = 0;
  for (const [s, e] of ranges) {
    out += buf.toString('utf8', pos, s) + redact(buf.toString('utf8', s, e));
    pos = e;
  }
  return out + buf.toString('utf8', pos);
}
