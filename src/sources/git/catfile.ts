import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GitProcess, type GitTarget } from './exec.js';

/** One object from `git cat-file --batch`. */
export interface BatchObject {
  /** The name git echoed: the object id, or the `rev:path` asked for. */
  name: string;
  type: string;
  size: number;
  /** The content, in a Buffer that owns its whole ArrayBuffer (transferable without copying). */
  data?: Buffer;
  /** Large content spilled to a private temporary file instead of memory. */
  file?: string;
  missing?: boolean;
}

export type Disposition = 'keep' | 'skip' | 'file';

/**
 * Parses a `git cat-file --batch` stream: `<oid> <type> <size>\n<content>\n` repeated, or
 * `<name> missing\n`. Content is copied once, from the pipe chunk into a buffer of its exact size;
 * objects the caller does not want are skipped without copying.
 */
export class BatchParser {
  private header: Buffer[] = [];
  private current: BatchObject | undefined;
  private mode: Disposition = 'skip';
  private remaining = 0;
  private filled = 0;
  private fd = -1;
  private trailer = false;
  private spill: string | undefined;

  constructor(private readonly decide: (type: string, size: number, name: string) => Disposition) {}

  push(chunk: Buffer, out: BatchObject[]): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.trailer) {
        // the newline after content
        pos++;
        this.trailer = false;
        continue;
      }
      if (this.current === undefined) {
        const nl = chunk.indexOf(0x0a, pos);
        if (nl === -1) {
          this.header.push(chunk.subarray(pos));
          return;
        }
        let line: string;
        if (this.header.length > 0) {
          this.header.push(chunk.subarray(pos, nl));
          line = Buffer.concat(this.header).toString('utf8');
          this.header = [];
        } else line = chunk.toString('utf8', pos, nl);
        pos = nl + 1;
        this.startObject(line, out);
        continue;
      }
      const take = Math.min(this.remaining, n - pos);
      if (this.mode === 'keep') chunk.copy(this.current.data!, this.filled, pos, pos + take);
      else if (this.mode === 'file') writeAll(this.fd, chunk.subarray(pos, pos + take));
      this.filled += take;
      this.remaining -= take;
      pos += take;
      if (this.remaining === 0) this.finishObject(out);
    }
  }

  private startObject(line: string, out: BatchObject[]): void {
    const sp2 = line.lastIndexOf(' ');
    const sp1 = sp2 > 0 ? line.lastIndexOf(' ', sp2 - 1) : -1;
    if (line.endsWith(' missing') || line.endsWith(' ambiguous') || sp1 < 0) {
      out.push({ name: line.replace(/ (missing|ambiguous)$/, ''), type: 'missing', size: 0, missing: true });
      return;
    }
    const name = line.slice(0, sp1);
    const type = line.slice(sp1 + 1, sp2);
    const size = Number(line.slice(sp2 + 1));
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`unexpected git cat-file output: ${line.slice(0, 80)}`);
    this.current = { name, type, size };
    this.mode = this.decide(type, size, name);
    this.remaining = size;
    this.filled = 0;
    if (this.mode === 'keep') this.current.data = Buffer.allocUnsafeSlow(size);
    else if (this.mode === 'file') {
      this.spill ??= mkdtempSync(join(tmpdir(), 'leakhound-blob-'));
      this.current.file = join(this.spill, name.replace(/[^0-9a-f]/gi, '_'));
      this.fd = openSync(this.current.file, 'w', 0o600);
    }
    if (size === 0) this.finishObject(out);
  }

  private finishObject(out: BatchObject[]): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    out.push(this.current!);
    this.current = undefined;
    this.trailer = true;
  }

  /** True when the stream ended between objects, as it should. */
  get idle(): boolean {
    return this.current === undefined && this.header.length === 0;
  }

  /** Removes the spill directory (call when every spilled file has been scanned). */
  cleanup(): void {
    if (this.fd >= 0) closeSync(this.fd);
    if (this.spill) rmSync(this.spill, { recursive: true, force: true });
  }
}

function writeAll(fd: number, b: Buffer): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

/** Parses a cat-file stream into objects, pulling from the pipe only as fast as the consumer takes them. */
export async function* parseBatch(stream: Readable, parser: BatchParser): AsyncGenerator<BatchObject> {
  const out: BatchObject[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    parser.push(chunk, out);
    if (out.length > 0) {
      const ready = out.splice(0);
      for (const o of ready) yield o;
    }
  }
  if (!parser.idle) throw new Error('git cat-file output ended in the middle of an object');
}

/**
 * Reads named objects (ids or `rev:path`) with one `git cat-file --batch`, for small sets (pre-commit,
 * range bases). Results come in the order asked (git answers in order); every content is kept.
 */
export async function readObjects(target: GitTarget, names: readonly string[]): Promise<BatchObject[]> {
  if (names.length === 0) return [];
  const git = new GitProcess(target, ['cat-file', '--batch', '--buffer']);
  git.stdin.end(names.join('\n') + '\n');
  const parser = new BatchParser(() => 'keep');
  const result: BatchObject[] = [];
  try {
    for await (const o of parseBatch(git.stdout, parser)) result.push(o);
  } finally {
    parser.cleanup();
  }
  await git.done('git cat-file failed');
  if (result.length !== names.length) throw new Error(`git cat-file answered ${result.length} of ${names.length} objects`);
  return result;
}
