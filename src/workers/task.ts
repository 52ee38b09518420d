import { openSync, readSync, fstatSync, closeSync } from 'node:fs';
import type { Hit } from '../core/types.js';
import type { CompiledRuleSet } from '../engine/compile.js';
import { nativeDatabaseOf } from '../engine/multipattern.js';
import { NativeFileStatus, type NativeDatabase } from '../native/addon.js';
import { cleanBatch } from '../sources/logs/clean.js';
import { InputScanner, SINGLE_PASS_MAX, WINDOW_OVERLAP, WINDOW_SIZE, scanBuffer, withComposites } from '../engine/scan.js';

/** Work handed to a scanner: a path to read (working trees: reading is the bottleneck, so workers read) or bytes. */
export type ScanTask =
  | { kind: 'file'; absPath: string }
  /** Many small files in one message: per-message costs dominated a tree of small files. */
  | { kind: 'files'; absPaths: string[] }
  /** Many small in-memory inputs (blobs, image files) in one message. */
  | { kind: 'blobs'; data: Uint8Array[] }
  | {
      kind: 'bytes';
      data: Uint8Array;
      /**
       * A source's preparation of the bytes, run in the worker so the main thread only reads:
       * 'log-clean' strips ANSI codes and CI timestamp prefixes from a batch of log lines.
       */
      transform?: 'log-clean';
      /** For 'log-clean': the batch begins in the middle of a long line. */
      startsMidLine?: boolean;
    };

export type ScanStatus = 'ok' | 'binary' | 'unreadable' | 'not-a-file';

export interface ScanResult {
  status: ScanStatus;
  hits: Hit[];
  bytes: number;
  /** Why a file could not be read, for the one warning. */
  error?: string;
  /** The bytes after a task's `transform`, returned when there are hits (positions refer to them). */
  transformed?: Uint8Array;
  /** For a 'files' or 'blobs' task: one result per input, in order. */
  batch?: ScanResult[];
}

/** Bytes inspected for a NUL to decide a file is binary (git's heuristic looks at 8,000). */
export const SNIFF_BYTES = 8000;

export function looksBinary(buf: Uint8Array, length: number = buf.length): boolean {
  // indexOf is memchr: a byte loop here cost more than reading the file
  return buf.subarray(0, Math.min(length, SNIFF_BYTES, buf.length)).indexOf(0) !== -1;
}

export function runTask(rules: CompiledRuleSet, task: ScanTask): ScanResult {
  if (task.kind === 'files') {
    const native = nativeDatabaseOf(rules.prefilter);
    const batch = native !== undefined ? scanFilesNatively(rules, native, task.absPaths) : task.absPaths.map((p) => scanFile(rules, p));
    return { status: 'ok', hits: [], bytes: 0, batch };
  }
  if (task.kind === 'blobs') {
    return { status: 'ok', hits: [], bytes: 0, batch: task.data.map((data) => runTask(rules, { kind: 'bytes', data })) };
  }
  if (task.kind === 'bytes') {
    let data = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength);
    if (task.transform === 'log-clean') data = cleanBatch(data, task.startsMidLine ?? false);
    if (looksBinary(data)) return { status: 'binary', hits: [], bytes: 0 };
    const hits = scanBuffer(rules, data);
    // hit positions refer to the transformed bytes: the source needs them to place the hits
    if (task.transform !== undefined && hits.length > 0) return { status: 'ok', hits, bytes: data.length, transformed: data };
    return { status: 'ok', hits, bytes: data.length };
  }
  return scanFile(rules, task.absPath);
}

/**
 * One buffer per thread for whole small files: most files of a tree are small, and a fresh buffer and
 * a size query per file cost more than reading them. Hits copy what they keep, so reuse is safe.
 */
const smallFileBuffer = Buffer.allocUnsafeSlow(SINGLE_PASS_MAX + 1);

/**
 * Where a native batch reads its files, reused (hits copy what they keep): candidate files stay
 * there instead of each being copied into a buffer of its own. Room for a full batch of small files;
 * when it runs out, files get buffers of their own.
 */
const BATCH_SLAB_BYTES = 32 * (SINGLE_PASS_MAX + 1);
let batchSlab: Buffer | undefined;

/**
 * Small files read, sniffed and run through the multi-pattern pass in one native call: most files
 * of a tree no rule can match, and they never reach JavaScript. The others come back with their
 * bytes and the patterns found; large files take the windowed path below.
 */
function scanFilesNatively(rules: CompiledRuleSet, native: NativeDatabase, absPaths: string[]): ScanResult[] {
  const batch = native.scanFiles(absPaths, SINGLE_PASS_MAX, SNIFF_BYTES, (batchSlab ??= Buffer.allocUnsafeSlow(BATCH_SLAB_BYTES)));
  const out = new Array<ScanResult>(absPaths.length);
  for (const d of batch.details) {
    const k = d[0];
    if (batch.status[k] === NativeFileStatus.Unreadable) out[k] = { status: 'unreadable', hits: [], bytes: 0, error: d[1] as string };
    else {
      const data = typeof d[1] === 'number' ? batchSlab!.subarray(d[1], d[1] + batch.bytes[k]!) : (d[1] as Buffer);
      // ids null: not UTF-8, the pass runs again on RE2
      const found = d[2] === null || d[2] === undefined ? undefined : { ids: d[2], ends: d[3] as Uint32Array };
      out[k] = { status: 'ok', hits: scanBuffer(rules, data, found), bytes: data.length };
    }
  }
  for (let k = 0; k < absPaths.length; k++) {
    if (out[k] !== undefined) continue;
    switch (batch.status[k]) {
      case NativeFileStatus.Clean:
        out[k] = { status: 'ok', hits: [], bytes: batch.bytes[k]! };
        break;
      case NativeFileStatus.Binary:
        out[k] = { status: 'binary', hits: [], bytes: 0 };
        break;
      case NativeFileStatus.NotAFile:
        out[k] = { status: 'not-a-file', hits: [], bytes: 0 };
        break;
      default:
        out[k] = scanFile(rules, absPaths[k]!);
    }
  }
  return out;
}

/** Reads and scans one file with bounded memory: whole when small, else in overlapping windows. */
export function scanFile(rules: CompiledRuleSet, absPath: string): ScanResult {
  let fd: number;
  try {
    fd = openSync(absPath, 'r');
  } catch (e) {
    return { status: 'unreadable', hits: [], bytes: 0, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  try {
    // Read first, ask later: a file that fits the buffer needs no size query. Only a larger one (or
    // something that is no regular file) is looked at more closely.
    let n: number;
    try {
      n = readFully(fd, smallFileBuffer, 0);
    } catch (e) {
      if (!fstatSync(fd).isFile()) return { status: 'not-a-file', hits: [], bytes: 0 };
      throw e;
    }
    if (n === 0) return { status: 'ok', hits: [], bytes: 0 };
    if (looksBinary(smallFileBuffer, n)) return { status: 'binary', hits: [], bytes: 0 };
    if (n <= SINGLE_PASS_MAX) return { status: 'ok', hits: scanBuffer(rules, smallFileBuffer.subarray(0, n)), bytes: n };
    if (!fstatSync(fd).isFile()) return { status: 'not-a-file', hits: [], bytes: 0 };
    const scanner = new InputScanner(rules);
    const buf = Buffer.allocUnsafe(WINDOW_SIZE + WINDOW_OVERLAP);
    const hits: Hit[] = [];
    let pos = 0;
    for (;;) {
      const got = readFully(fd, buf, pos);
      if (got === 0) break;
      const last = got < buf.length;
      const owned = last ? got : WINDOW_SIZE;
      hits.push(...scanner.scanWindow(buf.subarray(0, got), pos, owned));
      pos += owned;
      if (last) break;
    }
    return { status: 'ok', hits: withComposites(rules, hits), bytes: pos };
  } catch (e) {
    return { status: 'unreadable', hits: [], bytes: 0, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let total = 0;
  while (total < buf.length) {
    const n = readSync(fd, buf, total, buf.length - total, position + total);
    if (n === 0) break;
    total += n;
  }
  return total;
}

const STATUSES: readonly ScanStatus[] = ['ok', 'binary', 'unreadable', 'not-a-file'];

/**
 * A batch's results as they cross between threads: most inputs of a tree have no hits, and one
 * object per input cost more to copy between threads than scanning small files.
 */
export interface PackedBatch {
  status: Uint8Array;
  bytes: Float64Array;
  /** The results with more than a status and a size (hits, an error, transformed bytes), by index. */
  full: [number, ScanResult][];
}

export function packBatch(batch: ScanResult[]): PackedBatch {
  const status = new Uint8Array(batch.length);
  const bytes = new Float64Array(batch.length);
  const full: [number, ScanResult][] = [];
  batch.forEach((r, k) => {
    status[k] = STATUSES.indexOf(r.status);
    bytes[k] = r.bytes;
    if (r.hits.length > 0 || r.error !== undefined || r.transformed !== undefined || r.batch !== undefined) full.push([k, r]);
  });
  return { status, bytes, full };
}

export function unpackBatch(p: PackedBatch): ScanResult[] {
  const out: ScanResult[] = new Array<ScanResult>(p.status.length);
  for (let k = 0; k < p.status.length; k++) out[k] = { status: STATUSES[p.status[k]!]!, hits: [], bytes: p.bytes[k]! };
  for (const [k, r] of p.full) out[k] = r;
  return out;
}
