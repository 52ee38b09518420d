import { charsetOf, randomLookingThreshold, shannonEntropy } from '../entropy.js';

/** Shapes a value under a secret-sounding key takes when it is code or a reference, not a secret. */
const NOT_SECRET: readonly RegExp[] = [
  /^[0-9]+$/, // ports, ids, timestamps
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, // UUIDs
  // words, camelCase and PascalCase names (Optional, authService, getApiToken2): every capital starts a word
  /^[A-Za-z][a-z]{2,}(?:[A-Z][a-z]{2,}|[A-Z]{2,5}(?=[A-Z][a-z]))*[0-9]{0,3}$/,
  /^[a-z]{2,}[a-z0-9]*(?:[_.-][a-z0-9]+)+$/, // snake, kebab and dotted names
  /^[A-Z]{2,}[A-Z0-9]*(?:[_.-][A-Z0-9]+)+$/, // SCREAMING-KEBAB
  /^[A-Za-z][a-z]+(?:[_.-][A-Za-z][a-z]+)+$/, // Title-Case-Words (Api-Token, Zoho-oauthtoken)
  /^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+$/, // member access (config.apiKey, self._token)
  /^[a-z][a-z0-9+.-]*:\/\//i, // URLs
  // paths: every segment a name (base64 may start with a slash, but its segments mix cases at random)
  /^(?:~|\.{1,2})?(?:\/(?:[A-Za-z]?[a-z0-9._-]*|[A-Z0-9._-]*))+\/?$/,
  /^[\w.-]+\.(?:pem|key|crt|cer|p12|pfx|jks|json|ya?ml|txt|env|conf|cfg|ini|properties|xml|toml|js|ts|py|rb|go|sh)$/i, // file names
  /^[A-Z_][A-Z0-9_]+$/, // CONSTANT_NAMES
  /^(?:sha(?:1|224|256|384|512)|md5|blake2b?|h1)[-:]/i, // content hashes (integrity, digests)
  /^[A-Za-z]+:[A-Za-z0-9._-]+$/, // type:name references (secret:db, vault:path)
];

/**
 * For generic rules (a secret-sounding key with some value): the value must look random for its
 * alphabet and not like code. Entropy thresholds depend on the charset, since 16 hex characters
 * cannot reach the entropy of 16 base64 characters.
 */
export function randomLooking(value: string): boolean {
  if (value.length < 8 || value.length > 512) return false;
  for (const re of NOT_SECRET) if (re.test(value)) return false;
  if (/\s/.test(value) && value.split(/\s+/).length > 2) return false; // prose
  const charset = charsetOf(value);
  // a random secret mixes classes; a hex string is the exception
  if (charset !== 'hex' && !(/[0-9]/.test(value) && /[A-Za-z]/.test(value)) && !(/[a-z]/.test(value) && /[A-Z]/.test(value))) return false;
  return shannonEntropy(value) >= randomLookingThreshold(value);
}
