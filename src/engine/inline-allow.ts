/**
 * Comments on the secret's line that mark it as a known false positive. leakhound's own tag
 * and those of other scanners, so a team switching over keeps its annotations.
 */
const ALLOW_TAGS = [
  'leakhound:allow',
  'gitleaks:allow',
  'pragma: allowlist secret',
  'trufflehog:ignore',
  'kingfisher:ignore',
  'noseyparker:ignore',
  'secretlint-disable-line',
  'nosec', // generic, scoped to the same line only
].map((t) => Buffer.from(t));

/** Longest stretch of a line searched for a tag; keeps a 2 GB one-line file cheap. */
const MAX_LOOK = 4096;

export function hasInlineAllow(buf: Buffer, lineStart: number, lineEnd: number, secStart: number, secEnd: number): boolean {
  const from = Math.max(lineStart, secStart - MAX_LOOK);
  const to = Math.min(lineEnd, secEnd + MAX_LOOK);
  const slice = buf.subarray(from, to);
  for (const tag of ALLOW_TAGS) if (slice.indexOf(tag) !== -1) return true;
  return false;
}
