import type { Readable } from 'node:stream';
import type { Hit, Origin } from '../../core/types.js';
import { InputScanner, WINDOW_OVERLAP, WINDOW_SIZE } from '../../engine/scan.js';
import type { ScanContext } from '../../scan/context.js';
import { looksBinary } from '../../workers/task.js';

/**
 * Scans a stream too large to hold in memory on the main thread, in the engine's overlapping
 * windows, so a secret straddling two windows is found once and line numbers run on.
 */
export async function scanStreamInline(ctx: ScanContext, stream: Readable, origin: Origin): Promise<void> {
  const scanner = new InputScanner(ctx.compiled);
  const win = Buffer.allocUnsafe(WINDOW_SIZE + WINDOW_OVERLAP);
  let fill = 0;
  let base = 0;
  let first = true;
  const hits: Hit[] = [];
  let binary = false;
  // leaving early is safe: the tar reader closes a member's stream and skips the rest of its bytes
  chunks: for await (const chunk of stream as AsyncIterable<Buffer>) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, win.length - fill);
      chunk.copy(win, fill, off, off + n);
      fill += n;
      off += n;
      if (fill < win.length) continue;
      if (first && looksBinary(win)) {
        binary = true;
        break chunks;
      }
      first = false;
      hits.push(...scanner.scanWindow(win, base, WINDOW_SIZE));
      win.copy(win, 0, WINDOW_SIZE, fill);
      fill -= WINDOW_SIZE;
      base += WINDOW_SIZE;
    }
  }
  if (binary || (first && looksBinary(win, fill))) {
    ctx.stats.skippedBinary++;
    return;
  }
  if (fill > 0) hits.push(...scanner.scanWindow(win.subarray(0, fill), base, fill));
  ctx.stats.filesScanned++;
  ctx.stats.bytesScanned += base + fill;
  if (hits.length > 0) ctx.collector.add(origin, hits);
}
