/** Shannon entropy in bits per character of a string (0 for the empty string). */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export type Charset = 'hex' | 'base64' | 'alnum' | 'other';

/** The narrowest alphabet the string is written in; entropy thresholds depend on it. */
export function charsetOf(s: string): Charset {
  if (/^[0-9a-fA-F]+$/.test(s)) return 'hex';
  if (/^[A-Za-z0-9]+$/.test(s)) return 'alnum';
  if (/^[A-Za-z0-9+/=_-]+$/.test(s)) return 'base64';
  return 'other';
}

/**
 * Minimum entropy a random-looking secret of this charset reaches at this length.
 * A uniformly random string of n characters from an alphabet of size k has entropy close to
 * min(log2 k, log2 n); we ask for a margin below that so real secrets pass and words do not.
 */
export function randomLookingThreshold(s: string): number {
  const n = s.length;
  const cap = Math.log2(Math.max(n, 2));
  switch (charsetOf(s)) {
    case 'hex':
      // 16 random hex characters average about 3.3 bits with a wide spread: a larger margin
      return Math.min(2.9, cap - 1.5);
    case 'alnum':
      return Math.min(3.7, cap - 0.9);
    case 'base64':
      return Math.min(4.0, cap - 0.9);
    default:
      return Math.min(3.5, cap - 1.0);
  }
}
