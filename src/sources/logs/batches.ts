import type { Readable } from 'node:stream';
import { WINDOW_OVERLAP } from '../../engine/scan.js';

const NL = 0x0a;

/** A run of whole lines of a log (or one window of a very long line), with where it sits in the log. */
export interface LineBatch {
  raw: Buffer;
  /** Line number (1-based) of the batch's first line. */
  firstLine: number;
  /** Bytes of the first line that precede this batch (a window into a very long line), else 0. */
  firstLineOffset: number;
  /** Leading bytes repeated from the previous batch, so a multi-line secret across the cut is whole in one batch. */
  overlap: number;
}

export interface BatchOptions {
  /** Batch size to aim for; also the longest line held whole before it is windowed. */
  batchBytes: number;
  /** Bytes repeated at the start of the next batch (whole lines, or the tail of a long line). */
  overlap: number;
}

export const DEFAULT_BATCH: BatchOptions = { batchBytes: 1024 * 1024, overlap: WINDOW_OVERLAP };

function countNewlines(b: Buffer, s: number, e: number): { count: number; last: number } {
  let count = 0;
  let last = -1;
  for (let i = b.indexOf(NL, s); i !== -1 && i < e; i = b.indexOf(NL, i + 1)) {
    count++;
    last = i;
  }
  return { count, last };
}

/**
 * Cuts a stream into batches of whole lines with bounded memory: a batch ends at a newline, so a
 * secret split across reads is always whole in one batch. A line longer than the batch size is cut
 * into windows that overlap by `overlap` bytes; the overlap of whole lines between batches keeps
 * multi-line secrets (PEM blocks) whole. The same secret seen twice in an overlap has the same
 * line and column, so the findings collector keeps it once.
 */
export async function* lineBatches(stream: Readable, options: BatchOptions = DEFAULT_BATCH): AsyncGenerator<LineBatch> {
  let buf = Buffer.allocUnsafe(options.batchBytes * 2);
  let len = 0;
  let firstLine = 1;
  let firstLineOffset = 0;
  let overlap = 0;

  const emit = (end: number): LineBatch => {
    const raw = Buffer.allocUnsafeSlow(end);
    buf.copy(raw, 0, 0, end);
    return { raw, firstLine, firstLineOffset, overlap };
  };
  /** Drops buf[0, k) and moves the line position past it. */
  const drop = (k: number): void => {
    const { count, last } = countNewlines(buf, 0, k);
    if (count > 0) {
      firstLine += count;
      firstLineOffset = k - (last + 1);
    } else firstLineOffset += k;
    buf.copy(buf, 0, k, len);
    len -= k;
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, buf.length - len);
      chunk.copy(buf, len, off, off + n);
      len += n;
      off += n;
      while (len >= options.batchBytes) {
        const lastNl = buf.lastIndexOf(NL, len - 1);
        if (lastNl >= overlap) {
          const cut = lastNl + 1;
          yield emit(cut);
          // keep the last whole lines (up to `overlap` bytes) for the next batch
          let keep = cut;
          const from = buf.indexOf(NL, Math.max(cut - options.overlap - 1, 0));
          if (from !== -1 && from + 1 < cut) keep = from + 1;
          drop(keep);
          overlap = cut - keep;
        } else {
          // one line longer than a batch: a window, and the next starts `overlap` bytes back
          yield emit(len);
          const keep = len - options.overlap;
          drop(keep);
          overlap = options.overlap;
        }
      }
    }
  }
  if (len > overlap) yield emit(len);
}
