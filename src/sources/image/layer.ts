import type { Readable } from 'node:stream';
import { archiveKind, expandArchive, safeMemberName, type NestedLimits } from '../archive/nested.js';
import { tarEntries } from '../archive/stream.js';
import { recordWhiteout, type Whiteouts } from './whiteouts.js';

/** A file of a layer (or of an archive inside one), ready to scan. */
export interface LayerFile {
  path: string;
  data: Buffer;
}

export interface LayerReadOptions {
  /** Files up to this size are read whole and scanned by a worker; larger ones go to `onLarge`. */
  largeFile: number;
  nested: NestedLimits;
  warn: (message: string) => void;
  /** Scans a file too large to hold, from its stream, before the next entry is read. */
  onLarge(path: string, stream: Readable, size: number): Promise<void>;
}

/**
 * The regular files of one (decompressed) layer tar, in order, with whiteouts recorded into `w`.
 * Archives inside are opened to the depth limit. Throws when the tar is truncated or corrupt, after
 * yielding every file read before the damage.
 */
export async function* layerFiles(tarStream: Readable, label: string, w: Whiteouts, options: LayerReadOptions): AsyncGenerator<LayerFile> {
  for await (const entry of tarEntries(tarStream)) {
    const h = entry.header;
    if (h.type !== 'file' && h.type !== 'contiguous-file') {
      continue;
    }
    const path = safeMemberName(h.name);
    if (path === undefined) {
      options.warn(`${label}: entry '${h.name}' has an unsafe path, skipped`);
      continue;
    }
    if (recordWhiteout(w, path) || h.size === 0) continue;
    if (h.size > options.largeFile) {
      await options.onLarge(path, entry.stream(), h.size);
      continue;
    }
    // scanned, or copied once into the batch sent to a worker (workers/pool.ts): no copy of its own
    const data = await entry.readView();
    if (options.nested.maxDepth > 0 && archiveKind(path, data.subarray(0, 512)) !== undefined) {
      let any = false;
      for await (const inner of expandArchive(path, data, 0, options.nested, (m) => options.warn(`${label}: ${m}`))) {
        any = true;
        yield inner;
      }
      // an archive that yielded nothing (corrupt, or empty) is scanned as it is: stored members are plain text
      if (!any) yield { path, data };
      continue;
    }
    yield { path, data };
  }
}
