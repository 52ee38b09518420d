import { createReadStream, closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Hit } from '../../core/types.js';
import { UserError } from '../../core/errors.js';
import type { ScanContext } from '../../scan/context.js';
import { isZip } from '../archive/magic.js';
import { safeZipEntries } from '../archive/nested.js';
import { cleanBatch } from './clean.js';
import { lineBatches, type LineBatch } from './batches.js';
import { BatchMap } from './translate.js';

export const STDIN_PATH = 'stdin';

/** A log to read: a file, standard input, or one member of a zip of job logs. */
export interface LogInput {
  path: string;
  open(): Promise<Readable>;
}

/** Display path: relative to cwd when inside it. */
export function displayPath(p: string, cwd: string): string {
  const abs = resolve(cwd, p);
  const rel = relative(cwd, abs);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? abs : rel.split('\\').join('/');
}

function fileHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const n = readSync(fd, b, 0, 4, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Checks every argument before reading any, so a typo fails fast with exit 2. */
export function checkLogArgs(files: string[]): void {
  for (const f of files) {
    if (f === '-') continue;
    let st;
    try {
      st = statSync(f);
    } catch {
      throw new UserError(`${f}: no such file`);
    }
    if (!st.isFile()) throw new UserError(`${f}: not a file (logs reads files, standard input, or a zip of job logs)`);
  }
}

/**
 * Standard input. A file redirected to it (`leakhound logs < build.log`) is read in 1 MB chunks like a
 * named file; process.stdin would read it 64 KB at a time. Pipes and terminals keep process.stdin.
 */
function stdinStream(): Readable {
  try {
    if (fstatSync(0).isFile()) return createReadStream('', { fd: 0, autoClose: false, highWaterMark: 1024 * 1024 });
  } catch {
    /* no usable fd 0: process.stdin reports it */
  }
  return process.stdin;
}

/** The logs named on the command line, expanding zips of job logs (GitHub Actions' download) into their members. */
export async function* logInputs(files: string[], cwd: string, warn: (m: string) => void): AsyncGenerator<LogInput> {
  const list = files.length === 0 ? ['-'] : files;
  for (const f of list) {
    if (f === '-') {
      yield { path: STDIN_PATH, open: () => Promise.resolve(stdinStream()) };
      continue;
    }
    const path = displayPath(f, cwd);
    if (isZip(fileHead(f))) {
      yield* zipLogs(f, path, warn);
      continue;
    }
    yield { path, open: () => Promise.resolve(createReadStream(f, { highWaterMark: 1024 * 1024 })) };
  }
}

async function* zipLogs(file: string, label: string, warn: (m: string) => void): AsyncGenerator<LogInput> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch (e) {
    throw new UserError(`${label}: not a readable zip (${(e as Error).message})`);
  }
  try {
    for await (const { entry, name } of safeZipEntries(zip, label, warn)) {
      // the location path is the member's path inside the zip, as the job log is named there
      yield { path: name, open: () => zip.openReadStreamPromise(entry) };
    }
  } catch (e) {
    warn(`${label}: corrupt zip (${(e as Error).message}), rest skipped`);
  } finally {
    zip.close();
  }
}

/**
 * Scans logs: each is cut into batches of whole lines, cleaned, and scanned by the workers; hits
 * are mapped back to the log's own line numbers and columns. Memory is bounded by the batch size
 * times the workers' queue, whatever the log's length.
 */
export async function produceLogs(ctx: ScanContext, files: string[], cwd: string): Promise<void> {
  const running = new Set<Promise<void>>();
  // two batches per worker keep every worker busy; more would only hold memory
  const maxInFlight = Math.max(2, Math.floor(ctx.scanner.capacity / 4));
  let failure: unknown;
  for await (const input of logInputs(files, cwd, ctx.warn)) {
    let stream: Readable;
    try {
      stream = await input.open();
    } catch (e) {
      ctx.warn(`cannot read ${input.path} (${(e as Error).message}), skipped`);
      ctx.stats.skippedUnreadable++;
      continue;
    }
    try {
      for await (const batch of lineBatches(stream)) {
        if (failure !== undefined) throw failure;
        const p = scanBatch(ctx, input.path, batch).catch((e: unknown) => {
          failure ??= e;
        });
        const tracked = p.finally(() => running.delete(tracked));
        running.add(tracked);
        if (running.size >= maxInFlight) await Promise.race(running);
      }
      ctx.stats.filesScanned++;
    } catch (e) {
      if (e === failure) throw e;
      ctx.stats.skippedUnreadable++;
      ctx.warn(`${input.path}: read failed (${(e as Error).message}); lines before the failure were scanned`);
    }
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
}

async function scanBatch(ctx: ScanContext, path: string, batch: LineBatch): Promise<void> {
  const startsMidLine = batch.firstLineOffset > 0;
  // the worker cleans the batch (main-thread cleaning starved the workers); it gets a copy, since the
  // raw bytes are needed here again to place any hits
  const result = await ctx.scanner.scan({ kind: 'bytes', data: new Uint8Array(batch.raw), transform: 'log-clean', startsMidLine });
  ctx.stats.bytesScanned += batch.raw.length - batch.overlap;
  if (result.hits.length === 0) return;
  // the worker returns the cleaned bytes of batches with hits (inline scanning returns them too)
  const t = result.transformed;
  const cleaned = t !== undefined ? Buffer.from(t.buffer, t.byteOffset, t.byteLength) : cleanBatch(batch.raw, startsMidLine);
  const map = new BatchMap(batch.raw, cleaned, batch.firstLine, batch.firstLineOffset, startsMidLine);
  const hits: Hit[] = result.hits.map((h) => map.translate(h).hit);
  ctx.collector.add({ path }, hits);
}
