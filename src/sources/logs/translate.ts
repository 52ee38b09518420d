import type { Hit } from '../../core/types.js';
import { cleanLine } from './clean.js';

const NL = 0x0a;

function lineStarts(b: Buffer): number[] {
  const starts = [0];
  for (let i = b.indexOf(NL); i !== -1; i = b.indexOf(NL, i + 1)) starts.push(i + 1);
  return starts;
}

/**
 * Maps positions in a cleaned batch back to the raw log: line numbers, UTF-16 columns of the
 * original line (the timestamp and colour codes count), and raw byte offsets for masking.
 * Built only for batches with hits.
 */
export class BatchMap {
  private readonly rawStarts: number[];
  private readonly cleanStarts: number[];
  private readonly maps = new Map<number, number[]>();

  constructor(
    private readonly raw: Buffer,
    private readonly cleaned: Buffer,
    private readonly firstLine: number,
    private readonly firstLineOffset: number,
    private readonly startsMidLine: boolean,
  ) {
    this.rawStarts = lineStarts(raw);
    this.cleanStarts = lineStarts(cleaned);
  }

  private rawEnd(line: number): number {
    const next = this.rawStarts[line + 1];
    return next === undefined ? this.raw.length : next - 1;
  }

  /** For line index k: raw offset (from the raw line start) of each cleaned byte, plus the end. */
  private mapOf(k: number): number[] {
    let m = this.maps.get(k);
    if (m === undefined) {
      const s = this.rawStarts[k]!;
      const e = this.rawEnd(k);
      m = [];
      const scratch = new Uint8Array(e - s);
      cleanLine(this.raw, s, e, !(k === 0 && this.startsMidLine), scratch, 0, m);
      for (let i = 0; i < m.length; i++) m[i]! -= s;
      let end = e - s;
      if (end > 0 && this.raw[s + end - 1] === 0x0d) end--;
      m.push(end);
      this.maps.set(k, m);
    }
    return m;
  }

  /** Raw batch offset of a cleaned batch offset on line index k (0-based within the batch). */
  rawOffset(k: number, cleanedOffset: number): number {
    const rel = cleanedOffset - this.cleanStarts[k]!;
    const m = this.mapOf(k);
    return this.rawStarts[k]! + (m[Math.min(rel, m.length - 1)] ?? 0);
  }

  /** Raw byte offset just past the cleaned range ending at cleanedEnd (exclusive) on line k. */
  rawEndOffset(k: number, cleanedEnd: number): number {
    const rel = cleanedEnd - this.cleanStarts[k]!;
    const m = this.mapOf(k);
    if (rel <= 0) return this.rawStarts[k]!;
    return this.rawStarts[k]! + (m[Math.min(rel - 1, m.length - 1)] ?? 0) + (rel - 1 < m.length - 1 ? 1 : 0);
  }

  private column(k: number, rawOffset: number): number {
    const s = this.rawStarts[k]!;
    const units = this.raw.toString('utf8', s, rawOffset).length;
    return units + 1 + (k === 0 ? this.firstLineOffset : 0);
  }

  /** The hit, located in the raw log; plus its raw byte range within the batch. */
  translate(hit: Hit): { hit: Hit; start: number; end: number } {
    const k = hit.line - 1;
    const kEnd = hit.endLine - 1;
    const start = this.rawOffset(k, hit.offset);
    const end = this.rawEndOffset(kEnd, hit.offset + Buffer.byteLength(hit.secret));
    return {
      hit: {
        ...hit,
        line: this.firstLine + k,
        endLine: this.firstLine + kEnd,
        column: this.column(k, start),
        endColumn: this.column(kEnd, end),
      },
      start,
      end,
    };
  }
}
