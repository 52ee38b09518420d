import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

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

function cstr(b: Buffer, s: number, e: number): string {
  const z = b.indexOf(0, s);
  return b.toString('utf8', s, z === -1 || z > e ? e : z);
}

function num(b: Buffer, s: number, e: number): number {
  if (b[s]! & 0x80) {
    // base-256 (GNU) for sizes past 8 GiB
    let n = b[s]! & 0x7f;
    for (let i = s + 1; i < e; i++) n = n * 256 + b[i]!;
    return n;
  }
  const t = cstr(b, s, e).trim();
  return t === '' ? 0 : parseInt(t, 8);
}

function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let p = 0;
  while (p < data.length) {
    const sp = data.indexOf(0x20, p);
    if (sp === -1) break;
    const len = parseInt(data.toString('latin1', p, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.toString('utf8', sp + 1, p + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    p += len;
  }
  return out;
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
    let pax: Map<string, string> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
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
      if (h.every((x) => x === 0)) return { entries };
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
      if (sum !== num(h, 148, 156)) return { entries, damage: `corrupt header at byte ${pos}` };
      const size = num(h, 124, 136);
      const flag = String.fromCharCode(h[156]!);
      const dataOff = pos + 512;
      const next = dataOff + Math.ceil(size / 512) * 512;
      if (flag === 'x' || flag === 'L' || flag === 'K' || flag === 'g') {
        if (dataOff + size > fileSize) return { entries, damage: `truncated at byte ${pos}` };
        if (size > 1024 * 1024) return { entries, damage: `oversized extended header at byte ${pos}` };
        const data = readData(dataOff, size);
        if (flag === 'x') pax = paxRecords(data);
        else if (flag === 'L') longName = cstr(data, 0, data.length);
        else if (flag === 'K') longLink = cstr(data, 0, data.length);
        pos = next;
        continue;
      }
      let name = cstr(h, 0, 100);
      if (h.toString('latin1', 257, 262) === 'ustar') {
        const prefix = cstr(h, 345, 500);
        if (prefix) name = `${prefix}/${name}`;
      }
      name = pax?.get('path') ?? longName ?? name;
      const linkname = pax?.get('linkpath') ?? longLink ?? cstr(h, 157, 257);
      const realSize = pax?.has('size') ? Number(pax.get('size')) : size;
      const realNext = dataOff + Math.ceil(realSize / 512) * 512;
      pax = undefined;
      longName = undefined;
      longLink = undefined;
      const type = flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '1' ? 'link' : flag === '2' ? 'symlink' : flag === '5' ? 'directory' : 'other';
      if (type === 'file' && dataOff + realSize > fileSize) {
        return { entries, damage: `truncated inside '${name}' (${fileSize - dataOff} of ${realSize} bytes)` };
      }
      entries.push({ name, type, linkname, offset: dataOff, size: type === 'file' ? realSize : 0 });
      pos = type === 'file' ? realNext : next;
    }
  } finally {
    closeSync(fd);
  }
}
