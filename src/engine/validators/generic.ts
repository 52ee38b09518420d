import { charsetOf, randomLookingThreshold, shannonEntropy } from '../entropy.js';

/**
 * For generic rules (a secret-sounding key with some value): the value must look random for its
 * alphabet and not like code. Entropy thresholds depend on the charset, since 16 hex characters
 * cannot reach the entropy of 16 base64 characters.
 */
export function randomLooking(value: string): boolean {
  if (value.length < 8 || value.length > 512) return false;
  if (/^[0-9]+$/.test(value)) return false; // ports, ids, timestamps
  if (/^[a-z]+(?:[A-Z][a-z0-9]*)+$/.test(value) || /^[a-z]+(?:[_.-][a-z0-9]+)+$/i.test(value)) return false; // identifiers
  if (/^(?:[a-z]+:)?\/\/|^\/|^\.{0,2}\//i.test(value)) return false; // paths and plain URLs
  if (/^[A-Z_][A-Z0-9_]+$/.test(value)) return false; // CONSTANT_NAMES
  if (/\s/.test(value) && value.split(/\s+/).length > 2) return false; // prose
  const charset = charsetOf(value);
  // a random secret mixes classes; a hex string is the exception
  if (charset !== 'hex' && !(/[0-9]/.test(value) && /[A-Za-z]/.test(value)) && !(/[a-z]/.test(value) && /[A-Z]/.test(value))) return false;
  return shannonEntropy(value) >= randomLookingThreshold(value);
}
