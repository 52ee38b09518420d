/** Structural checks for formats that carry more than a shape: JWT headers, PEM bodies, Luhn digits. */

function base64UrlDecode(part: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(part)) return undefined;
  return Buffer.from(part.replace(/=+$/, ''), 'base64url');
}

/** Three base64url parts whose header decodes to a JSON object naming an algorithm. */
export function jwt(secret: string): boolean {
  const parts = secret.split('.');
  if (parts.length !== 3 && parts.length !== 5) return false;
  const header = base64UrlDecode(parts[0]!);
  if (!header) return false;
  try {
    const obj = JSON.parse(header.toString('utf8')) as unknown;
    if (typeof obj !== 'object' || obj === null) return false;
    const alg = (obj as Record<string, unknown>)['alg'];
    if (typeof alg !== 'string') return false;
    // An unsigned token (alg none) carries no secret worth rotating.
    if (alg.toLowerCase() === 'none') return false;
    const payload = base64UrlDecode(parts[1]!);
    if (!payload) return false;
    return parts[2]!.length >= 16;
  } catch {
    return false;
  }
}

/** The text between BEGIN and END lines is base64 (ignoring headers like Proc-Type) of plausible length. */
export function pemBody(secret: string): boolean {
  const lines = secret.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const body = lines.filter(
    (l) => !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l) && !l.startsWith('"') && !l.endsWith('\\'),
  );
  const joined = body.join('').replace(/\\n/g, '');
  if (joined.length < 64) return false;
  if (!/^[A-Za-z0-9+/=]+$/.test(joined)) return false;
  // A placeholder body (AAAA..., or ... ellipses) is not a key.
  const distinct = new Set(joined).size;
  return distinct >= 16;
}

/** Luhn check over the digits of the secret (card numbers, some account numbers). */
export function luhn(secret: string): boolean {
  const digits = secret.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
