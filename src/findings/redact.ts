/**
 * Shows just enough of a secret to recognise it (a provider prefix, the PEM header) and masks the rest.
 * The mask has a fixed length so the preview does not disclose the secret's length either.
 */
export function redact(secret: string): string {
  const firstLine = secret.split(/\r?\n/, 1)[0] ?? '';
  if (firstLine.startsWith('-----BEGIN') || firstLine.startsWith('PuTTY-User-Key-File')) {
    return `${firstLine.slice(0, 64)} ****`;
  }
  const keep = secret.length >= 24 ? 4 : secret.length >= 12 ? 2 : 0;
  return `${secret.slice(0, keep)}${'*'.repeat(8)}`;
}
