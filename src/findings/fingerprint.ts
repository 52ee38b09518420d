import { createHash } from 'node:crypto';

/** sha-256 of rule id and secret: the same secret found by the same rule anywhere has one fingerprint. */
export function fingerprintOf(ruleId: string, secret: string): string {
  return createHash('sha256').update(ruleId).update('\0').update(secret).digest('hex');
}

/** sha-256 of the secret alone, for matching one credential across rules and stores. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
