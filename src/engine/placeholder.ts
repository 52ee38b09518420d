/**
 * Values that stand in for a secret rather than being one: template variables, documentation
 * placeholders, masked values, single repeated characters. Dropped for every rule.
 */
const PLACEHOLDER_WORDS = /example|xxxx|changeme|change_me|dummy|placeholder|sample|your[_-]|<your|redacted|insert[_-]?here|replace[_-]?me|\*\*\*\*|fake|notreal|not[_-]a[_-]real|lorem|todo/i;
const TEMPLATE = /\$\{|\$\(|\{\{|\}\}|<%|%>|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_]+%$|process\.env|os\.environ|getenv|ENV\[|secrets\.|vault:|^<[^>]*>$/;

export function isPlaceholder(secret: string): boolean {
  if (secret.length === 0) return true;
  if (PLACEHOLDER_WORDS.test(secret) || TEMPLATE.test(secret)) return true;
  // one character repeated, or a short run repeated (abcabcabc), or a plain sequence
  if (/^(.)\1*$/s.test(secret)) return true;
  if (secret.length >= 8 && /^(.{1,4})\1+$/s.test(secret)) return true;
  if (/^(0123456789|123456789|abcdefghijklmnopqrstuvwxyz|ABCDEFGHIJKLMNOPQRSTUVWXYZ)/.test(secret)) return true;
  return false;
}
