import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, posix, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { UserError } from '../../core/errors.js';
import { isTarHeader, sniffCompression } from '../archive/magic.js';
import { decompressed, tarEntries } from '../archive/stream.js';
import { safeMemberName } from '../archive/nested.js';
import { indexTar } from './tar-index.js';

/** Metadata files (manifests, configs, indexes) are small; anything bigger is not kept in memory. */
const METADATA_MAX = 8 * 2 ** 20;
/** Total metadata kept from one outer tar. */
const METADATA_TOTAL_MAX = 256 * 2 ** 20;

export type Warn = (message: string) => void;

/**
 * Where an image's files live: a directory (OCI layout, or an unpacked docker save) or a tar of one.
 * Paths are '/'-separated and relative to the image root.
 */
export interface ImageInput {
  readonly label: string;
  has(path: string): boolean;
  /** A small JSON file (manifest, index, config), or undefined when absent or too large. */
  readMetadata(path: string): Buffer | undefined;
  /**
   * Streams each wanted blob to the handler, one at a time, in whatever order the input allows.
   * Returns the wanted paths that were never found.
   */
  streamBlobs(wanted: readonly string[], handler: (path: string, stream: Readable, size: number) => Promise<void>): Promise<Set<string>>;
}

/** A path named by a manifest, checked to stay inside the image. */
export function blobPathOf(name: string): string | undefined {
  return safeMemberName(name);
}

export function digestPath(digest: string): string | undefined {
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) return undefined;
  return `blobs/${m[1]}/${m[2]}`;
}

class DirInput implements ImageInput {
  constructor(private readonly root: string) {}
  get label(): string {
    return this.root;
  }
  private abs(path: string): string | undefined {
    const safe = blobPathOf(path);
    if (safe === undefined) return undefined;
    const abs = resolve(this.root, ...safe.split('/'));
    if (abs !== this.root && !abs.startsWith(this.root + sep)) return undefined;
    return abs;
  }
  has(path: string): boolean {
    const abs = this.abs(path);
    return abs !== undefined && existsSync(abs) && statSync(abs).isFile();
  }
  readMetadata(path: string): Buffer | undefined {
    const abs = this.abs(path);
    if (abs === undefined) return undefined;
    try {
      if (statSync(abs).size > METADATA_MAX) return undefined;
      return readFileSync(abs);
    } catch {
      return undefined;
    }
  }
  async streamBlobs(wanted: readonly string[], handler: (path: string, stream: Readable, size: number) => Promise<void>): Promise<Set<string>> {
    const missing = new Set<string>();
    for (const path of wanted) {
      const abs = this.abs(path);
      if (abs === undefined || !this.has(path)) {
        missing.add(path);
        continue;
      }
      await handler(path, createReadStream(abs, { highWaterMark: 256 * 1024 }), statSync(abs).size);
    }
    return missing;
  }
}

/** The files of an image tar by name, with its hard and symbolic links followed (at most 16 deep). */
abstract class TarEntries<E> {
  protected readonly entries = new Map<string, E>();
  /** Symlinks and hard links in the outer tar (legacy docker save links repeated layers). */
  protected readonly links = new Map<string, string>();

  protected resolve(path: string): string {
    let p = path;
    for (let i = 0; i < 16 && this.links.has(p); i++) p = this.links.get(p)!;
    return p;
  }

  has(path: string): boolean {
    return this.entries.has(this.resolve(path));
  }
}

/**
 * A compressed tar of an image (docker save | gzip, or an OCI layout tarred and compressed): no
 * offsets to seek to, so it is read as a stream.
 *
 * Two passes over the file, never a spill to disk and never a whole layer in memory: `docker save`
 * writes manifest.json and index.json after the layer blobs, so the first pass can only learn which
 * entries are layers once it has seen them all. The first pass keeps small JSON entries (manifests,
 * configs, indexes) and the entry list; the second streams each wanted layer straight from the
 * outer tar into the layer reader. The cost is one extra sequential read of the file (from the page
 * cache for all but the largest images), which is cheaper than buffering or spilling layers.
 */
class TarInput extends TarEntries<number> implements ImageInput {
  private readonly metadata = new Map<string, Buffer>();
  private keptBytes = 0;

  constructor(private readonly file: string) {
    super();
  }

  get label(): string {
    return this.file;
  }

  private open(): Readable {
    return createReadStream(this.file, { highWaterMark: 1024 * 1024 });
  }

  /** First pass: entry names, links and small JSON documents. Returns false if nothing at all was readable. */
  async index(warn: Warn): Promise<void> {
    const { stream } = await decompressed(this.open(), this.file);
    try {
      for await (const entry of tarEntries(stream)) {
        const h = entry.header;
        const name = blobPathOf(h.name);
        if (name === undefined) {
          if (h.name !== './' && h.name !== '.') warn(`${this.file}: entry '${h.name}' has an unsafe path, skipped`);
          continue;
        }
        if (h.type === 'symlink' || h.type === 'link') {
          const target = h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname) : h.linkname;
          const t = blobPathOf(target);
          if (t !== undefined) this.links.set(name, t);
          continue;
        }
        if (h.type !== 'file' && h.type !== 'contiguous-file') continue;
        this.entries.set(name, h.size);
        if (h.size <= METADATA_MAX && this.keptBytes + h.size <= METADATA_TOTAL_MAX) {
          const data = await entry.read();
          if (looksLikeJson(data)) {
            this.metadata.set(name, data);
            this.keptBytes += data.length;
          }
        }
      }
    } catch (e) {
      if (this.entries.size === 0) throw new UserError(`${this.file}: not a readable image tar (${(e as Error).message})`);
      warn(`${this.file}: truncated or corrupt after ${this.entries.size} entries (${(e as Error).message}); scanning what is intact`);
    }
    if (this.entries.size === 0) throw new UserError(`${this.file}: not an image: the tar has no files`);
  }


  readMetadata(path: string): Buffer | undefined {
    return this.metadata.get(this.resolve(path));
  }

  async streamBlobs(wanted: readonly string[], handler: (path: string, stream: Readable, size: number) => Promise<void>): Promise<Set<string>> {
    // several wanted paths may resolve (through links) to one entry
    const byTarget = new Map<string, string[]>();
    for (const w of wanted) {
      const t = this.resolve(w);
      byTarget.set(t, [...(byTarget.get(t) ?? []), w]);
    }
    const missing = new Set(wanted.filter((w) => !this.entries.has(this.resolve(w))));
    const pending = new Set([...byTarget.keys()].filter((t) => this.entries.has(t)));
    if (pending.size === 0) return missing;
    const { stream } = await decompressed(this.open(), this.file);
    try {
      for await (const entry of tarEntries(stream)) {
        const name = blobPathOf(entry.header.name);
        if (name === undefined || !pending.has(name) || (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file')) continue;
        pending.delete(name);
        // the first path naming this entry gets the stream; later ones are the same blob (skipped by digest)
        const path = byTarget.get(name)![0]!;
        await handler(path, entry.stream(), entry.header.size);
        if (pending.size === 0) break;
      }
    } catch {
      // truncation was already reported by the first pass; blobs not reached count as missing
    }
    for (const t of pending) for (const w of byTarget.get(t)!) missing.add(w);
    return missing;
  }
}

/**
 * An uncompressed image tar (what `docker save` writes): indexed by its headers alone, then each
 * wanted blob is streamed straight from its byte range, in layer order, with no second pass and
 * no tar parsing of the outer file on the way.
 */
class SeekableTarInput extends TarEntries<{ offset: number; size: number }> implements ImageInput {
  constructor(private readonly file: string) {
    super();
  }

  get label(): string {
    return this.file;
  }

  index(warn: Warn): void {
    const { entries, damage } = indexTar(this.file);
    if (entries.length === 0) throw new UserError(`${this.file}: not a readable image tar${damage ? ` (${damage})` : ''}`);
    if (damage) warn(`${this.file}: ${damage} after ${entries.length} entries; scanning what is intact`);
    for (const e of entries) {
      const name = blobPathOf(e.name);
      if (name === undefined) {
        if (e.name !== './' && e.name !== '.') warn(`${this.file}: entry '${e.name}' has an unsafe path, skipped`);
        continue;
      }
      if (e.type === 'symlink' || e.type === 'link') {
        const t = blobPathOf(e.type === 'symlink' ? posix.join(posix.dirname(name), e.linkname) : e.linkname);
        if (t !== undefined) this.links.set(name, t);
      } else if (e.type === 'file') this.entries.set(name, { offset: e.offset, size: e.size });
    }
  }


  readMetadata(path: string): Buffer | undefined {
    const e = this.entries.get(this.resolve(path));
    if (e === undefined || e.size > METADATA_MAX) return undefined;
    const fd = openSync(this.file, 'r');
    try {
      const b = Buffer.alloc(e.size);
      readSync(fd, b, 0, e.size, e.offset);
      return b;
    } finally {
      closeSync(fd);
    }
  }

  async streamBlobs(wanted: readonly string[], handler: (path: string, stream: Readable, size: number) => Promise<void>): Promise<Set<string>> {
    const missing = new Set<string>();
    const done = new Set<string>();
    for (const w of wanted) {
      const t = this.resolve(w);
      const e = this.entries.get(t);
      if (e === undefined) {
        missing.add(w);
        continue;
      }
      if (done.has(t)) continue;
      done.add(t);
      const stream = e.size === 0 ? Readable.from([]) : createReadStream(this.file, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1024 * 1024 });
      await handler(w, stream, e.size);
      if (!stream.destroyed) stream.destroy();
    }
    return missing;
  }
}

function looksLikeJson(data: Buffer): boolean {
  for (let i = 0; i < data.length && i < 64; i++) {
    const b = data[i]!;
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b;
  }
  return false;
}

/** Opens PATH as an image: a directory, or a (compressed) tar. Throws UserError when it is neither. */
export async function openImageInput(path: string, warn: Warn): Promise<ImageInput> {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UserError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (st.isDirectory()) {
    const root = resolve(path);
    if (!existsSync(join(root, 'index.json')) && !existsSync(join(root, 'manifest.json'))) {
      throw new UserError(`${path}: not an image directory (no index.json or manifest.json)`);
    }
    return new DirInput(root);
  }
  if (!st.isFile()) throw new UserError(`${path}: not a file or directory`);
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  const h = head.subarray(0, n);
  if (sniffCompression(h) === 'none' && !isTarHeader(h)) {
    throw new UserError(`${path}: not an image: expected a docker save tarball, an OCI layout (directory or tar), gzip or zstd compressed or not`);
  }
  if (sniffCompression(h) === 'none') {
    const input = new SeekableTarInput(path);
    input.index(warn);
    return input;
  }
  const input = new TarInput(path);
  await input.index(warn);
  return input;
}
