import RE2 from 're2';

/**
 * Secrets hidden under an encoding: Kubernetes Secret `data:` values, `.dockerconfigjson` auths,
 * `Authorization: Basic` headers (base64) and URL-encoded credentials (percent-encoding).
 * Encoded segments are found, decoded, and the decoded text is scanned again (to a depth limit);
 * a secret found there is reported at the encoded segment's location.
 *
 * A cheap literal pass decides first whether an input has any such context at all, so ordinary
 * code pays one fast automaton pass and nothing more.
 */

export const MAX_DECODE_DEPTH = 2;

/** `word` in either case, ASCII only (RE2's `(?i)` also folds the Kelvin sign and long s; Hyperscan does not). */
function caseless(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');
}
/** Whitespace as RE2's `\s` means it (PCRE's, and so Hyperscan's, also takes \v). */
const SPACE = '[\\t\\n\\f\\r ]';

/**
 * Contexts where encoded credentials live; one of them must appear for decoding to run. They join
 * the rules' multi-pattern pass (compile.ts), so ordinary code pays nothing extra. Written with
 * explicit classes, so RE2 and Hyperscan match them alike (see multipattern.ts).
 */
export const DECODE_TRIGGER_PATTERNS: readonly string[] = [
  `${caseless('kind:')}${SPACE}*${caseless('secret')}`,
  `${caseless('dockerconfigjson')}|${caseless('dockercfg')}`,
  `${caseless('authorization:')}${SPACE}*${caseless('basic')}`,
  `"${caseless('auth')}"${SPACE}*:`,
  '%[0-9A-Fa-f]{2}[^%\\t\\n\\f\\r ]{0,64}%[0-9A-Fa-f]{2}',
];

const BASE64_SEGMENT = new RE2('[A-Za-z0-9+/_-]{16,}={0,2}', 'g');
const PERCENT_SEGMENT = new RE2("[A-Za-z0-9._~!$&'()*+,;=:@/?#\\[\\]-]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~!$&'()*+,;=:@/?#\\[\\]-]*){2,}", 'g');

export interface EncodedSegment {
  start: number;
  end: number;
  decoded: Buffer;
  encoding: 'base64' | 'percent';
}

/** Decoded bytes that read as text: binary (a hash, an image) is not rescanned. */
function isText(b: Buffer): boolean {
  if (b.length < 8) return false;
  let printable = 0;
  for (const c of b) if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d) printable++;
  return printable / b.length >= 0.95;
}

/** Encoded segments of an input the multi-pattern pass found a decoding context in. */
export function encodedSegments(buf: Buffer, ownedEnd: number): EncodedSegment[] {
  const out: EncodedSegment[] = [];
  BASE64_SEGMENT.lastIndex = 0;
  for (let m = BASE64_SEGMENT.exec(buf); m !== null; m = BASE64_SEGMENT.exec(buf)) {
    if (m.index >= ownedEnd) break;
    const text = (m[0] as unknown as Buffer).toString('latin1');
    const decoded = Buffer.from(text, /[-_]/.test(text) ? 'base64url' : 'base64');
    if (isText(decoded)) out.push({ start: m.index, end: m.index + text.length, decoded, encoding: 'base64' });
  }
  PERCENT_SEGMENT.lastIndex = 0;
  for (let m = PERCENT_SEGMENT.exec(buf); m !== null; m = PERCENT_SEGMENT.exec(buf)) {
    if (m.index >= ownedEnd) break;
    const text = (m[0] as unknown as Buffer).toString('latin1');
    let decoded: string;
    try {
      decoded = decodeURIComponent(text);
    } catch {
      continue;
    }
    if (decoded !== text) out.push({ start: m.index, end: m.index + text.length, decoded: Buffer.from(decoded), encoding: 'percent' });
  }
  return out;
}
