import { Readable } from 'node:stream';
import { posix } from 'node:path';
import yauzl from 'yauzl';
import { isTarHeader, isZip, sniffCompression } from './magic.js';
import { BombError, decompressed, peek, readAll, tarEntries } from './stream.js';

/** Caps for archives found inside a scanned input (jar in a layer, tar.gz in a jar...). */
export interface NestedLimits {
  /** How many archive levels are opened: 1 opens app.jar, 2 also a jar inside it... 0 opens none. */
  maxDepth: number;
  /** A single member larger than this is skipped with a warning. */
  maxEntryBytes: number;
  /** Bytes all members of one outermost archive may expand to, together. */
  maxTotalBytes: number;
  /** A member expanding more than this ratio (once past ratioFloor bytes) is treated as a bomb. */
  maxRatio: number;
  ratioFloor: number;
}

export const DEFAULT_NESTED_LIMITS: NestedLimits = {
  maxDepth: 3,
  maxEntryBytes: 64 * 2 ** 20,
  maxTotalBytes: 1024 * 2 ** 20,
  maxRatio: 200,
  ratioFloor: 2 ** 20,
};

export type ArchiveKind = 'zip' | 'tar' | 'compressed';

/** What kind of archive the bytes are, judged by magic (a gzip is opened only when its name says tar or gz). */
export function archiveKind(name: string, head: Uint8Array): ArchiveKind | undefined {
  if (isZip(head)) return 'zip';
  if (isTarHeader(head)) return 'tar';
  const c = sniffCompression(head);
  if (c === 'gzip' && /\.(tgz|gz|tar\.gz)$/i.test(name)) return 'compressed';
  if (c === 'zstd' && /\.(zst|tzst|tar\.zst)$/i.test(name)) return 'compressed';
  return undefined;
}

/** A file found inside an archive. */
export interface InnerFile {
  /** Display path: outer path, then '!/' and the member path, for each level. */
  path: string;
  data: Buffer;
}

interface Budget {
  total: number;
}

export type NestedWarn = (message: string) => void;

/** A member name made safe for display: no leading '/' or './', no '..' escaping the archive. */
export function safeMemberName(name: string): string | undefined {
  const n = posix.normalize(name.replace(/\\/g, '/')).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  if (n === '' || n === '.' || n === '..' || n.startsWith('../')) return undefined;
  return n.replace(/\/$/, '');
}

/**
 * Opens an archive held in memory and yields the files inside, recursing into archives it contains
 * up to the depth limit. Corrupt members, oversize members and bombs produce a warning; the members
 * read before the problem are still yielded.
 */
export async function* expandArchive(
  path: string,
  data: Buffer,
  depth: number,
  limits: NestedLimits,
  warn: NestedWarn,
  budget: Budget = { total: 0 },
): AsyncGenerator<InnerFile> {
  const kind = archiveKind(path, data.subarray(0, 512));
  if (kind === undefined) return;
  const members = kind === 'zip' ? zipMembers(path, data, limits, warn, budget) : tarMembers(path, data, limits, warn, budget);
  for await (const m of members) {
    if (depth + 1 < limits.maxDepth && archiveKind(m.path, m.data.subarray(0, 512)) !== undefined) {
      yield* expandArchive(m.path, m.data, depth + 1, limits, warn, budget);
    } else {
      yield m;
    }
  }
}

function charge(budget: Budget, n: number, limits: NestedLimits, path: string): void {
  budget.total += n;
  if (budget.total > limits.maxTotalBytes) {
    throw new BombError(`${path}: archive contents exceed ${Math.round(limits.maxTotalBytes / 2 ** 20)} MiB in total (decompression bomb?), rest skipped`);
  }
}

async function* zipMembers(path: string, data: Buffer, limits: NestedLimits, warn: NestedWarn, budget: Budget): AsyncGenerator<InnerFile> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(data, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false });
  } catch (e) {
    warn(`${path}: not a readable zip (${(e as Error).message}), skipped`);
    return;
  }
  try {
    for await (const { entry, name } of safeZipEntries(zip, path, warn)) {
      const where = `${path}!/${name}`;
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        warn(`${where}: ${entry.uncompressedSize} bytes, larger than the ${limits.maxEntryBytes}-byte cap for archive members, skipped`);
        continue;
      }
      if (entry.uncompressedSize > limits.ratioFloor && entry.uncompressedSize / Math.max(entry.compressedSize, 1) > limits.maxRatio) {
        throw new BombError(`${where}: expands ${Math.round(entry.uncompressedSize / Math.max(entry.compressedSize, 1))}:1 (decompression bomb?), rest of ${path} skipped`);
      }
      charge(budget, entry.uncompressedSize, limits, path);
      const stream = await zip.openReadStreamPromise(entry);
      const buf = await readAll(stream, entry.uncompressedSize, limits.maxEntryBytes);
      yield { path: where, data: buf };
    }
  } catch (e) {
    warn(e instanceof BombError ? e.message : `${path}: corrupt zip (${(e as Error).message}), rest skipped`);
  } finally {
    zip.close();
  }
}

/** A zip's file entries with safe member names; unsafe ones (`../`, absolute) get a warning and are skipped. */
export async function* safeZipEntries(zip: yauzl.ZipFile, label: string, warn: (message: string) => void): AsyncGenerator<{ entry: yauzl.Entry; name: string }> {
  for (;;) {
    const entry = await nextZipEntry(zip);
    if (entry === undefined) return;
    if (entry.fileName.endsWith('/')) continue;
    const name = safeMemberName(entry.fileName);
    if (name === undefined) {
      warn(`${label}: member '${entry.fileName}' has an unsafe path, skipped`);
      continue;
    }
    yield { entry, name };
  }
}

/** The next entry of a zip opened with `lazyEntries`, or undefined at its end. */
export function nextZipEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: yauzl.Entry): void => {
      cleanup();
      resolve(e);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

async function* tarMembers(path: string, data: Buffer, limits: NestedLimits, warn: NestedWarn, budget: Budget): AsyncGenerator<InnerFile> {
  const expansion = { maxBytes: limits.maxTotalBytes, maxRatio: limits.maxRatio, ratioFloor: limits.ratioFloor };
  try {
    const { stream, compression } = await decompressed(Readable.from([data]), path, expansion);
    const { head, stream: body } = await peek(stream);
    if (!isTarHeader(head)) {
      // a single compressed file (app.log.gz): its content is the member
      if (compression === 'none') return;
      const inner = posix.basename(path).replace(/\.(gz|zst)$/i, '') || 'content';
      const buf = await readAll(body, 0, limits.maxEntryBytes);
      charge(budget, buf.length, limits, path);
      yield { path: `${path}!/${inner}`, data: buf };
      return;
    }
    for await (const entry of tarEntries(body)) {
      const h = entry.header;
      if (h.type !== 'file' && h.type !== 'contiguous-file') continue;
      const name = safeMemberName(h.name);
      if (name === undefined) {
        warn(`${path}: member '${h.name}' has an unsafe path, skipped`);
        continue;
      }
      if (h.size > limits.maxEntryBytes) {
        warn(`${path}!/${name}: ${h.size} bytes, larger than the ${limits.maxEntryBytes}-byte cap for archive members, skipped`);
        continue;
      }
      charge(budget, h.size, limits, path);
      const buf = await entry.read();
      yield { path: `${path}!/${name}`, data: buf };
    }
  } catch (e) {
    warn(e instanceof BombError ? e.message : `${path}: corrupt or truncated archive (${(e as Error).message}), rest skipped`);
  }
}
