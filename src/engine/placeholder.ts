/**
 * Values that stand in for a secret rather than being one: template variables, documentation
 * placeholders, masked values, single repeated characters. Dropped for every rule.
 */
const WORDS = 'example|xxxx|changeme|change_me|dummy|placeholder|sample|your[_-]|<your|redacted|insert[_-]?here|replace[_-]?me|\\*\\*\\*\\*|fake|notreal|not[_-]a[_-]real|lorem|todo';
const PLACEHOLDER_WORDS = new RegExp(WORDS, 'i');
/**
 * In a long random value (a PEM body, a long token) such words turn up by chance: about one random
 * RSA key in 25 contains "fake", "todo" or "xxxx" in its base64. There a word counts only where it
 * stands apart: at an end of the value or next to punctuation.
 */
const DELIMITED_WORD = new RegExp(`(?:^|[^A-Za-z0-9])(?:${WORDS})|(?:${WORDS})(?:$|[^A-Za-z0-9])`, 'i');
const SHORT = 40;
const TEMPLATE = /\$\{|\$\(|\{\{|\}\}|<%|%>|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_]+%$|process\.env|os\.environ|getenv|ENV\[|secrets\.|vault:|^<[^>]*>$/;

export function isPlaceholder(secret: string): boolean {
  if (secret.length === 0) return true;
  if ((secret.length <= SHORT ? PLACEHOLDER_WORDS : DELIMITED_WORD).test(secret) || TEMPLATE.test(secret)) return true;
  // one character repeated, or a short run repeated (abcabcabc), or a plain sequence
  if (/^(.)\1*$/s.test(secret)) return true;
  if (secret.length >= 8 && /^(.{1,4})\1+$/s.test(secret)) return true;
  if (/^(0123456789|123456789|abcdefghijklmnopqrstuvwxyz|ABCDEFGHIJKLMNOPQRSTUVWXYZ)/.test(secret)) return true;
  return false;
}
