import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MAX_EXTENDED_HEADER, applyExtended, checksumOk, isExtendedFlag, isZeroBlock, memberHeader, num, paddedSize, typeFlag, type PendingExtensions } from '../archive/tar-header.js';

/** One member of an uncompressed tar file, located by byte offset. */
export interface IndexedEntry {
  name: string;
  type: 'file' | 'link' | 'symlink' | 'directory' | 'other';
  linkname: string;
  /** Offset of the member's data in the file. */
  offset: number;
  size: number;
}

export interface TarIndex {
  entries: IndexedEntry[];
  /** Why reading stopped early (truncated or corrupt), when it did. */
  damage?: string;
}

/**
 * Lists an uncompressed tar by reading only its 512-byte headers and seeking over the data, so an
 * image of many GB is indexed in milliseconds and each layer can then be streamed from its offset.
 * Understands ustar prefixes, pax path/size records and GNU long names.
 */
export function indexTar(path: string): TarIndex {
  const fd = openSync(path, 'r');
  const entries: IndexedEntry[] = [];
  try {
    const fileSize = fstatSync(fd).size;
    const h = Buffer.alloc(512);
    let pos = 0;
    const ext: PendingExtensions = {};
    const readData = (off: number, size: number): Buffer => {
      const b = Buffer.alloc(size);
      readSync(fd, b, 0, size, off);
      return b;
    };
    for (;;) {
      if (pos + 512 > fileSize) {
        if (pos < fileSize || entries.length === 0) return { entries, damage: `truncated at byte ${pos}` };
        return { entries };
      }
      readSync(fd, h, 0, 512, pos);
      if (isZeroBlock(h)) return { entries };
      if (!checksumOk(h)) return { entries, damage: `corrupt header at byte ${pos}` };
      const size = num(h, 124, 136);
      const flag = typeFlag(h);
      const dataOff = pos + 512;
      const next = dataOff + paddedSize(size);
      if (isExtendedFlag(flag)) {
        if (dataOff + size > fileSize) return { entries, damage: `truncated at byte ${pos}` };
        if (size > MAX_EXTENDED_HEADER) return { entries, damage: `oversized extended header at byte ${pos}` };
        applyExtended(ext, flag, readData(dataOff, size));
        pos = next;
        continue;
      }
      const m = memberHeader(h, ext);
      const type = m.type === 'contiguous-file' ? 'file' : m.type;
      if (type === 'file' && dataOff + m.size > fileSize) {
        return { entries, damage: `truncated inside '${m.name}' (${fileSize - dataOff} of ${m.size} bytes)` };
      }
      entries.push({ name: m.name, type, linkname: m.linkname, offset: dataOff, size: type === 'file' ? m.size : 0 });
      pos = type === 'file' ? dataOff + paddedSize(m.size) : next;
    }
  } finally {
    closeSync(fd);
  }
}
