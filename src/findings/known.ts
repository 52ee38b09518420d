import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';

/** The ignore file of accepted findings, looked for at the scan root. */
export const IGNORE_FILE_NAME = '.leakhound-fingerprints';
const FINGERPRINT = /^[0-9a-f]{64}$/;

/**
 * Reads an ignore file: one fingerprint per line (as printed in reports), anything after it on the
 * line is a comment, as are lines starting with '#'. Fingerprints are derived from the secret, so a
 * new secret on an old line is still reported.
 */
export function parseIgnoreFile(text: string, file: string): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fp = line.split(/\s+/, 1)[0]!.toLowerCase();
    if (!FINGERPRINT.test(fp)) throw new UserError(`${file}:${i + 1}: expected a 64-character hex fingerprint, got '${fp.slice(0, 20)}'`);
    out.push(fp);
  });
  return out;
}

export function loadIgnoreFile(explicit: string | undefined, scanRoot: string): string[] {
  const file = explicit ?? join(scanRoot, IGNORE_FILE_NAME);
  if (explicit === undefined && !existsSync(file)) return [];
  return parseIgnoreFile(readText(file, 'ignore file'), file);
}

/** Fingerprints of an earlier JSON (or JSONL) report: those findings are known and do not fail the run. */
export function loadBaseline(file: string): string[] {
  const text = readText(file, 'baseline');
  const trimmed = text.trim();
  const fingerprints = (findings: unknown): string[] => {
    if (!Array.isArray(findings)) throw new UserError(`${file}: not a leakhound JSON report (no findings list)`);
    return findings.map((f, i) => {
      const fp = (f as { fingerprint?: unknown }).fingerprint;
      if (typeof fp !== 'string' || !FINGERPRINT.test(fp)) throw new UserError(`${file}: finding ${i + 1} has no valid fingerprint`);
      return fp;
    });
  };
  try {
    if (trimmed.startsWith('{') && !trimmed.includes('\n{')) {
      return fingerprints((JSON.parse(trimmed) as { findings?: unknown }).findings);
    }
    if (trimmed === '') return [];
    return fingerprints(trimmed.split(/\r?\n/).filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown));
  } catch (e) {
    if (e instanceof UserError) throw e;
    // the parser's message quotes the file's text, which may be a secret: say only what is wrong
    throw new UserError(`${file}: not a leakhound JSON report (invalid JSON)`);
  }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
