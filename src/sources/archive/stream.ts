import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import tar from 'tar-stream';
import { SNIFF_LENGTH, sniffCompression, type Compression } from './magic.js';

/** Thrown (as a stream error) when output grows past the caps: a decompression bomb, reported as a warning. */
export class BombError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BombError';
  }
}

/** Caps on what one compressed stream may expand to. */
export interface ExpansionLimits {
  /** Output bytes allowed in total. */
  maxBytes: number;
  /** Output/input ratio allowed once output passes `ratioFloor` bytes. */
  maxRatio: number;
  ratioFloor: number;
}

/**
 * Reads the first `n` bytes of a stream without losing them: returns them and a stream that
 * replays them followed by the rest.
 */
export async function peek(source: Readable, n: number = SNIFF_LENGTH): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let have = 0;
  let ended = false;
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      chunks.push(c);
      have += c.length;
      if (have >= n) done();
    };
    const onEnd = (): void => {
      ended = true;
      done();
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
    };
    const done = (): void => {
      cleanup();
      source.pause();
      resolve();
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
  });
  const head = Buffer.concat(chunks);
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  if (head.length > 0) out.write(head);
  if (ended) out.end();
  else {
    source.on('error', (e) => out.destroy(e));
    out.on('close', () => {
      if (!source.readableEnded) source.destroy();
    });
    source.pipe(out);
    source.resume();
  }
  return { head: head.subarray(0, n), stream: out };
}

/** A Transform running fzstd's streaming decompressor. */
export class ZstdDecompressStream extends Transform {
  private readonly d: Decompress;
  constructor() {
    super();
    this.d = new Decompress((data) => {
      if (data.length > 0) this.push(Buffer.from(data));
    });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.d.push(chunk);
      cb();
    } catch (e) {
      cb(new Error(`corrupt zstd data (${(e as Error).message})`));
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(0), true);
      cb();
    } catch (e) {
      cb(new Error(`truncated or corrupt zstd data (${(e as Error).message})`));
    }
  }
}

/** Counts bytes in and out of a decompressor and fails the stream when it expands past the caps. */
class ExpansionGuard extends Transform {
  private out = 0;
  constructor(
    private readonly inputBytes: () => number,
    private readonly limits: ExpansionLimits,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.out += chunk.length;
    if (this.out > this.limits.maxBytes) {
      cb(new BombError(`${this.what} expands past ${Math.round(this.limits.maxBytes / 2 ** 20)} MiB (decompression bomb?), rest skipped`));
      return;
    }
    const inBytes = Math.max(this.inputBytes(), 1);
    if (this.out > this.limits.ratioFloor && this.out / inBytes > this.limits.maxRatio) {
      cb(new BombError(`${this.what} expands more than ${this.limits.maxRatio}:1 (decompression bomb?), rest skipped`));
      return;
    }
    cb(null, chunk);
  }
}

/**
 * Detects gzip/zstd/none by magic bytes and returns the decompressed stream. Errors of the source
 * or the decompressor surface on the returned stream.
 */
export async function decompressed(
  source: Readable,
  what: string,
  limits?: ExpansionLimits,
): Promise<{ stream: Readable; compression: Compression }> {
  const { head, stream } = await peek(source);
  const compression = sniffCompression(head);
  if (compression === 'none') return { stream, compression };
  let consumed = 0;
  stream.on('data', (c: Buffer) => (consumed += c.length));
  const dec: Transform = compression === 'gzip' ? createGunzip({ chunkSize: 128 * 1024 }) : new ZstdDecompressStream();
  stream.on('error', (e) => dec.destroy(e));
  dec.on('close', () => {
    if (!stream.readableEnded) stream.destroy();
  });
  stream.pipe(dec);
  if (!limits) return { stream: dec, compression };
  const guard = new ExpansionGuard(() => consumed, limits, what);
  dec.on('error', (e) => guard.destroy(e));
  guard.on('close', () => {
    if (!dec.readableEnded) dec.destroy();
  });
  dec.pipe(guard);
  return { stream: guard, compression };
}


/** One member of a tar being read: read it whole, or as a stream, or ignore it (it is then skipped). */
export interface TarEntry {
  header: tar.Header;
  /** The member's bytes in one Buffer owning its memory (transferable to a worker). */
  read(): Promise<Buffer>;
  /** The member as a Node stream, for members too large to hold. */
  stream(): Readable;
}

/**
 * The members of a tar stream, one at a time. The consumer may read a member whole, as a stream
 * (partly, fully, or destroying it), or not at all: whatever it leaves is drained before the next
 * member, so one bad member never stalls or kills the archive. Truncation and corruption of the
 * archive itself are thrown from the iteration.
 */
export async function* tarEntries(source: Readable): AsyncGenerator<TarEntry> {
  const ex = tar.extract();
  source.on('error', (e) => ex.destroy(e));
  source.pipe(ex as unknown as NodeJS.WritableStream);
  try {
    for await (const raw of ex) {
      // tar-stream members are streamx streams, and destroying one destroys the whole extract: the
      // consumer never gets the member itself, only its bytes or a Node stream fed by pulling
      const header = (raw as unknown as { header: tar.Header }).header;
      const it = (raw as unknown as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      let finished = false;
      let inflight: Promise<IteratorResult<Buffer>> | undefined;
      let node: Readable | undefined;
      const next = async (): Promise<Buffer | undefined> => {
        inflight = it.next();
        const r = await inflight;
        inflight = undefined;
        if (r.done) {
          finished = true;
          return undefined;
        }
        return r.value;
      };
      const entry: TarEntry = {
        header,
        read: async () => {
          const out = Buffer.allocUnsafeSlow(header.size);
          let pos = 0;
          for (let c = await next(); c !== undefined; c = await next()) {
            const n = Math.min(c.length, out.length - pos);
            c.copy(out, pos, 0, n);
            pos += n;
          }
          return pos === out.length ? out : ownedCopy(out.subarray(0, pos));
        },
        stream: () => {
          node ??= Readable.from(
            (async function* () {
              for (let c = await next(); c !== undefined; c = await next()) yield c;
            })(),
            { objectMode: false, highWaterMark: 256 * 1024 },
          );
          return node;
        },
      };
      yield entry;
      if (finished) continue;
      if (node !== undefined && !node.destroyed) {
        const n = node;
        await new Promise<void>((resolve) => {
          n.once('close', resolve);
          n.resume();
        });
      }
      if (!finished) {
        if (inflight) await inflight.catch(() => undefined);
        for (;;) {
          const r = await it.next();
          if (r.done) break;
        }
      }
    }
  } finally {
    if (!source.destroyed) source.destroy();
  }
}

/** Reads a whole stream into one Buffer that owns its ArrayBuffer (transferable to a worker), up to `max` bytes. */
export async function readAll(stream: Readable, expected: number, max: number): Promise<Buffer> {
  if (expected > max) throw new Error(`entry of ${expected} bytes exceeds the ${max}-byte cap`);
  const out = Buffer.allocUnsafeSlow(expected);
  let pos = 0;
  const extra: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (pos + chunk.length <= expected) {
      chunk.copy(out, pos);
      pos += chunk.length;
    } else {
      // Declared size was wrong (zip entries without sizes): grow within the cap.
      extra.push(chunk);
      pos += chunk.length;
      if (pos > max) throw new Error(`entry exceeds the ${max}-byte cap`);
    }
  }
  if (extra.length === 0) return pos === expected ? out : ownedCopy(out.subarray(0, pos));
  const all = Buffer.allocUnsafeSlow(pos);
  out.copy(all, 0, 0, Math.min(expected, pos));
  let o = expected;
  for (const c of extra) {
    c.copy(all, o);
    o += c.length;
  }
  return all;
}

/** A copy that owns its whole ArrayBuffer. */
export function ownedCopy(view: Uint8Array): Buffer {
  const b = Buffer.allocUnsafeSlow(view.length);
  b.set(view);
  return b;
}
