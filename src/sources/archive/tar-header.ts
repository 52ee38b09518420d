/**
 * Reading tar headers: ustar names with prefixes, pax path/linkpath/size records, GNU long names,
 * octal and base-256 numbers. Shared by the streaming reader and the seeking index.
 */

export type TarEntryType = 'file' | 'contiguous-file' | 'link' | 'symlink' | 'directory' | 'other';

export interface TarHeader {
  name: string;
  type: TarEntryType;
  linkname: string;
  /** Bytes of data that follow the header (0 for links and directories). */
  size: number;
}

/** Largest pax or GNU long-name record read (a bigger one is treated as corruption). */
export const MAX_EXTENDED_HEADER = 1024 * 1024;

export function cstr(b: Buffer, s: number, e: number): string {
  const z = b.indexOf(0, s);
  return b.toString('utf8', s, z === -1 || z > e ? e : z);
}

export function num(b: Buffer, s: number, e: number): number {
  if (b[s]! & 0x80) {
    // base-256 (GNU) for sizes past 8 GiB
    let n = b[s]! & 0x7f;
    for (let i = s + 1; i < e; i++) n = n * 256 + b[i]!;
    return n;
  }
  const t = cstr(b, s, e).trim();
  return t === '' ? 0 : parseInt(t, 8);
}

export function paxRecords(data: Buffer): Map<string, string> {
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

/** The end-of-archive marker: a block of zeros. */
export function isZeroBlock(h: Buffer): boolean {
  for (let i = 0; i < 512; i++) if (h[i] !== 0) return false;
  return true;
}

export function checksumOk(h: Buffer): boolean {
  // the checksum field itself counts as eight spaces; two plain loops, no test per byte (one per
  // member of an image layer: it showed in profiles)
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += h[i]!;
  for (let i = 156; i < 512; i++) sum += h[i]!;
  return sum === num(h, 148, 156);
}

/** The type flag of a header block. */
export const typeFlag = (h: Buffer): string => String.fromCharCode(h[156]!);

/** Flags of headers that describe the next member (pax, GNU long names), not a member of their own. */
export const isExtendedFlag = (flag: string): boolean => flag === 'x' || flag === 'L' || flag === 'K' || flag === 'g';

/** Extended-header state carried to the next member. */
export interface PendingExtensions {
  pax?: Map<string, string>;
  longName?: string;
  longLink?: string;
}

/** Records an extended header's data into `ext`. */
export function applyExtended(ext: PendingExtensions, flag: string, data: Buffer): void {
  if (flag === 'x') ext.pax = paxRecords(data);
  else if (flag === 'L') ext.longName = cstr(data, 0, data.length);
  else if (flag === 'K') ext.longLink = cstr(data, 0, data.length);
}

/** A member's header, with the pending extensions applied (and then cleared). */
export function memberHeader(h: Buffer, ext: PendingExtensions): TarHeader {
  const flag = typeFlag(h);
  let name = cstr(h, 0, 100);
  if (h.toString('latin1', 257, 262) === 'ustar') {
    const prefix = cstr(h, 345, 500);
    if (prefix) name = `${prefix}/${name}`;
  }
  name = ext.pax?.get('path') ?? ext.longName ?? name;
  const linkname = ext.pax?.get('linkpath') ?? ext.longLink ?? cstr(h, 157, 257);
  const size = ext.pax?.has('size') ? Number(ext.pax.get('size')) : num(h, 124, 136);
  ext.pax = undefined;
  ext.longName = undefined;
  ext.longLink = undefined;
  const type: TarEntryType =
    flag === '0' || flag === '\0' ? 'file' : flag === '7' ? 'contiguous-file' : flag === '1' ? 'link' : flag === '2' ? 'symlink' : flag === '5' ? 'directory' : 'other';
  return { name, type, linkname, size };
}

/** Bytes a member's data occupies, padding included. */
export const paddedSize = (size: number): number => Math.ceil(size / 512) * 512;
