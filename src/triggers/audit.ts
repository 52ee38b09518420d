import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * The audit log: an append-only table in the store where every entry carries the hash of the one
 * before it. Changing, removing or reordering an entry breaks the chain at that entry.
 *
 * hash = sha256(prev_hash "\n" seq "\n" at "\n" kind "\n" data)   (data is the stored JSON text)
 */

export const GENESIS_HASH = '0'.repeat(64);

export type AuditKind = 'scan' | 'delivery' | 'status' | 'requeue';

export interface AuditEntry {
  seq: number;
  at: string;
  kind: string;
  data: string;
  prevHash: string;
  hash: string;
}

export function entryHash(prevHash: string, seq: number, at: string, kind: string, data: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${at}\n${kind}\n${data}`).digest('hex');
}

/** Appends one entry. Must run inside a write transaction (BEGIN IMMEDIATE), so the chain has no forks. */
export function appendAudit(db: Database.Database, kind: AuditKind, data: unknown, at: string): AuditEntry {
  const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  const seq = (last?.seq ?? 0) + 1;
  const prevHash = last?.hash ?? GENESIS_HASH;
  const text = JSON.stringify(data);
  const hash = entryHash(prevHash, seq, at, kind, text);
  db.prepare('INSERT INTO audit (seq, at, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)').run(seq, at, kind, text, prevHash, hash);
  return { seq, at, kind, data: text, prevHash, hash };
}

export type VerifyResult =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; seq: number; at: string; kind: string; reason: string };

/** Walks the chain in order and stops at the first entry that does not hold. */
export function verifyChain(entries: Iterable<AuditEntry>): VerifyResult {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (const e of entries) {
    count++;
    const bad = (reason: string): VerifyResult => ({ ok: false, entries: count, seq: e.seq, at: e.at, kind: e.kind, reason });
    if (e.seq !== expectedSeq) {
      return bad(e.seq > expectedSeq ? `entries ${expectedSeq}..${e.seq - 1} are missing` : `sequence number ${e.seq} is out of order (expected ${expectedSeq})`);
    }
    if (e.prevHash !== prev) {
      return bad(e.seq === 1 ? 'the first entry does not start the chain' : `it does not link to entry ${e.seq - 1}: entry ${e.seq - 1} was rewritten, or this link was changed`);
    }
    if (entryHash(e.prevHash, e.seq, e.at, e.kind, e.data) !== e.hash) return bad('its content does not match its hash (the entry was changed)');
    prev = e.hash;
    expectedSeq++;
  }
  return { ok: true, entries: count, head: prev };
}
