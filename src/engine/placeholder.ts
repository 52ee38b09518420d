/**
 * Values that stand in for a secret rather than being one: template variables, documentation
 * placeholders, masked values, single repeated characters. Dropped for every rule.
 */
/** Words long enough that chance does not put them in a short random value. */
const LONG_WORDS = 'example|changeme|change_me|dummy|placeholder|sample|redacted|insert[_-]?here|replace[_-]?me|notreal|not[_-]a[_-]real';
/** Short words that random characters spell now and then ("AKIA...TODO...", "...FAkE..." in base64). */
const SHORT_WORDS = 'xxxx|your[_-]|<your|\\*\\*\\*\\*|fake|lorem|todo';
const delimited = (words: string) => new RegExp(`(?:^|[^A-Za-z0-9])(?:${words})|(?:${words})(?:$|[^A-Za-z0-9])`, 'i');
const ANYWHERE = new RegExp(LONG_WORDS, 'i');
/**
 * Short words count only where they stand apart (at an end of the value or next to punctuation:
 * `sk_live_xxxx...`, `TODO`); in a long random value (a PEM body: about one random RSA key in 25
 * contains "fake", "todo" or "xxxx") every word must stand apart.
 */
const SHORT_DELIMITED = delimited(SHORT_WORDS);
const ALL_DELIMITED = delimited(`${LONG_WORDS}|${SHORT_WORDS}`);
const SHORT = 40;
const TEMPLATE = /\$\{|\$\(|\{\{|\}\}|<%|%>|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_]+%$|process\.env|os\.environ|getenv|ENV\[|secrets\.|vault:|^<[^>]*>$/;

export function isPlaceholder(secret: string): boolean {
  if (secret.length === 0) return true;
  const words = secret.length <= SHORT ? ANYWHERE.test(secret) || SHORT_DELIMITED.test(secret) : ALL_DELIMITED.test(secret);
  if (words || TEMPLATE.test(secret)) return true;
  // one character repeated, or a short run repeated (abcabcabc), or a plain sequence
  if (/^(.)\1*$/s.test(secret)) return true;
  if (secret.length >= 8 && /^(.{1,4})\1+$/s.test(secret)) return true;
  if (/^(0123456789|123456789|abcdefghijklmnopqrstuvwxyz|ABCDEFGHIJKLMNOPQRSTUVWXYZ)/.test(secret)) return true;
  return false;
}
