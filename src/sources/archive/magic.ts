/** Formats recognised by their first bytes: the media type in a manifest is a hint, the bytes are the truth. */

export type Compression = 'gzip' | 'zstd' | 'none';

/** Bytes needed to tell every format below apart (a tar header's magic sits at offset 257). */
export const SNIFF_LENGTH = 512;

export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** A POSIX/GNU tar header ('ustar' magic), or an old v7 header whose checksum adds up. */
export function isTarHeader(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  if (head[257] === 0x75 && head[258] === 0x73 && head[259] === 0x74 && head[260] === 0x61 && head[261] === 0x72) return true;
  // v7 tar: checksum field (octal, offset 148, 8 bytes) equals the sum of the header with that field as spaces
  const field = Buffer.from(head.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]{1,7}$/.test(field) || head[0] === 0) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i]!;
  return sum === parseInt(field, 8);
}

/** A zip archive (jar, war, ear...): a local file header, or the end record of an empty zip. */
export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}
