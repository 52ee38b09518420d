/**
 * Checksum validator for GitHub's prefixed tokens (ghp_, gho_, ghu_, ghs_, ghr_).
 *
 * Layout (GitHub blog, "Behind GitHub's new authentication token formats", 2021-04-05):
 *   <prefix>_<payload><checksum>     e.g. ghp_ + 30 base62 chars + 6 base62 chars
 * - payload: the base62 characters between the underscore and the last 6 characters.
 *   Only these ASCII bytes are hashed; the prefix and the underscore are not.
 * - checksum: CRC-32/ISO-HDLC (the zlib / IEEE 802.3 CRC: reflected polynomial 0xEDB88320,
 *   init 0xFFFFFFFF, final xor 0xFFFFFFFF) of the payload, written as a base62 number,
 *   most significant digit first, alphabet 0-9 A-Z a-z, left-padded with '0' to 6 characters.
 * npm_ tokens use the same layout. Fine-grained github_pat_ tokens do not end in such a checksum,
 * and the stateless ghs_<appid>_<JWT> installation tokens carry none: both are rejected here.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CHECKSUM_LEN = 6;
const SHAPE = /^[a-z][a-z0-9]*_([A-Za-z0-9]{7,251})$/;

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of an ASCII string (callers pass base62 text only). */
function crc32Ascii(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Decodes base62 digits (0-9A-Za-z) to a number; -1 on a character outside the alphabet. */
function base62Decode(digits: string): number {
  let n = 0;
  for (const ch of digits) {
    const v = BASE62.indexOf(ch);
    if (v < 0) return -1;
    n = n * 62 + v;
  }
  return n;
}

/** True when the last 6 characters of the token are the base62 CRC32 of its payload. */
export function githubCrc32(secret: string): boolean {
  const m = SHAPE.exec(secret);
  if (m === null) return false;
  const body = m[1]!;
  const payload = body.slice(0, body.length - CHECKSUM_LEN);
  const expected = base62Decode(body.slice(body.length - CHECKSUM_LEN));
  return expected >= 0 && expected === crc32Ascii(payload);
}
