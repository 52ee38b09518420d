import type { Readable, Writable } from 'node:stream';
import type { Hit } from '../../core/types.js';
import type { CompiledRuleSet } from '../../engine/compile.js';
import { scanBuffer, WINDOW_OVERLAP } from '../../engine/scan.js';
import { cleanBatch } from './clean.js';
import { BatchMap } from './translate.js';
import { mergeRanges } from './redact-text.js';

export const MASK = Buffer.from('***');

const NL = 0x0a;
const CR = 0x0d;
/** A line longer than this is masked and written in pieces. */
const MAX_LINE = 1024 * 1024;
/** Lines held back after a `-----BEGIN ... PRIVATE KEY-----` until its END line, at most this many bytes. */
const PEM_HOLD_MAX = 64 * 1024;
const PEM_BEGIN = Buffer.from('-----BEGIN ');
const PEM_END = Buffer.from('-----END ');

export interface MaskSink {
  /** Hits located in the input's own lines and columns. */
  onHits(hits: Hit[]): void;
}

/**
 * Copies `input` to `output` with every secret replaced by `***`, writing each line as soon as it is
 * complete (a CR also completes a progress line). A partial line is held until its end arrives, so a
 * secret split across writes is never half printed. A private key block is held from its BEGIN line
 * to its END line (bounded), so the whole block is masked although it arrives line by line.
 * Scanning is inline on this thread: a worker round trip would only add latency.
 */
export async function maskStream(compiled: CompiledRuleSet, input: Readable, output: Writable, sink: MaskSink): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let line = 1;
  let lineOffset = 0;

  const write = (b: Buffer): void => {
    if (b.length > 0) output.write(b);
  };

  /** Masks and writes raw[0, emitEnd); scans all of raw (so a secret crossing emitEnd is seen). Returns where it really stopped. */
  const maskAndWrite = (raw: Buffer, emitEnd: number): number => {
    const startsMidLine = lineOffset > 0;
    const cleaned = cleanBatch(raw, startsMidLine);
    const hits = scanBuffer(compiled, cleaned);
    let end = emitEnd;
    const ranges: [number, number][] = [];
    if (hits.length > 0) {
      const map = new BatchMap(raw, cleaned, line, lineOffset, startsMidLine);
      const located: Hit[] = [];
      for (const h of hits) {
        const t = map.translate(h);
        if (t.start >= end) continue; // seen again with the next piece
        if (t.end > end) end = t.end;
        ranges.push([t.start, t.end]);
        located.push(t.hit);
      }
      if (located.length > 0) sink.onHits(located);
    }
    const merged = mergeRanges(ranges);
    let pos = 0;
    const parts: Buffer[] = [];
    for (const [s, e] of merged) {
      parts.push(raw.subarray(pos, s), MASK);
      pos = e;
    }
    parts.push(raw.subarray(pos, end));
    write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    // advance line position past raw[0, end)
    let last = -1;
    for (let i = raw.indexOf(NL); i !== -1 && i < end; i = raw.indexOf(NL, i + 1)) {
      line++;
      last = i;
    }
    lineOffset = last === -1 ? lineOffset + end : end - (last + 1);
    return end;
  };

  /** Where complete content ends: after the last NL or CR, but before an unterminated private key block. */
  const completeEnd = (buf: Buffer): number => {
    const nl = buf.lastIndexOf(NL);
    const cr = buf.lastIndexOf(CR);
    let end = Math.max(nl, cr) + 1;
    if (end === 0) return 0;
    const begin = buf.lastIndexOf(PEM_BEGIN, end - 1);
    if (begin !== -1 && buf.indexOf(PEM_END, begin) === -1 && end - begin <= PEM_HOLD_MAX) {
      const lineStart = buf.lastIndexOf(NL, begin) + 1;
      end = lineStart;
    }
    return end;
  };

  for await (const chunk of input as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const end = completeEnd(pending);
    if (end > 0) {
      maskAndWrite(pending.subarray(0, end), end);
      pending = pending.subarray(end);
    }
    if (pending.length > MAX_LINE + WINDOW_OVERLAP) {
      // a very long line (or a key block that never ends): write all but a tail that is scanned again
      const done = maskAndWrite(pending, pending.length - WINDOW_OVERLAP);
      pending = pending.subarray(done);
    }
    if (pending.length > 0 && pending.byteOffset > 0 && pending.length < 64 * 1024) pending = Buffer.from(pending);
  }
  if (pending.length > 0) maskAndWrite(pending, pending.length);
}
