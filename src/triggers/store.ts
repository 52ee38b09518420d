import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Confidence, Finding, RuleDefinition, Severity } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { toolVersion } from '../version.js';
import { appendAudit, type AuditEntry } from './audit.js';
import { confidenceRank, severityRank } from './config.js';
import { buildEvent, describeLocation, type TriggerLocation } from './event.js';

/**
 * The durable store: one SQLite file (WAL) holding every finding ever seen, the outbox of rotation
 * triggers, per-sink delivery state, scan runs and the audit log. It never holds a secret: findings
 * are keyed by fingerprint and carry only non-secret identity.
 *
 * Every write is one IMMEDIATE transaction, so concurrent scans serialise on the write lock
 * (busy_timeout) and a crash leaves either all of a write or none of it.
 */

export type FindingStatus = 'open' | 'triggered' | 'rotated' | 'ignored';
export type OutboxState = 'pending' | 'delivered' | 'cancelled';
export const FINDING_STATUSES: FindingStatus[] = ['open', 'triggered', 'rotated', 'ignored'];

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  source TEXT NOT NULL,
  target TEXT NOT NULL,
  scanner_version TEXT NOT NULL,
  findings INTEGER NOT NULL DEFAULT 0,
  new_findings INTEGER NOT NULL DEFAULT 0,
  triggers INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS findings (
  fingerprint TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  severity TEXT NOT NULL,
  confidence TEXT NOT NULL,
  identity TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'triggered', 'rotated', 'ignored')),
  status_at TEXT NOT NULL,
  note TEXT,
  first_seen_at TEXT NOT NULL,
  first_run INTEGER NOT NULL REFERENCES runs(id),
  first_source TEXT NOT NULL,
  first_target TEXT NOT NULL,
  first_path TEXT NOT NULL,
  first_line INTEGER NOT NULL,
  first_column INTEGER NOT NULL,
  first_commit TEXT,
  first_layer TEXT,
  first_properties TEXT,
  last_seen_at TEXT NOT NULL,
  last_run INTEGER NOT NULL REFERENCES runs(id),
  last_source TEXT NOT NULL,
  last_target TEXT NOT NULL,
  last_path TEXT NOT NULL,
  last_line INTEGER NOT NULL,
  last_commit TEXT,
  last_layer TEXT,
  locations INTEGER NOT NULL,
  times_seen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_status ON findings(status);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
  created_at TEXT NOT NULL,
  event TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'cancelled')),
  done_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, seq);
CREATE TABLE IF NOT EXISTS deliveries (
  trigger_seq INTEGER NOT NULL REFERENCES outbox(seq),
  sink TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  acked_at TEXT,
  duplicate INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TEXT,
  last_error TEXT,
  PRIMARY KEY (trigger_seq, sink)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
`;

export interface TriggerPolicy {
  minSeverity: Severity;
  minConfidence: Confidence;
}

export interface RunInput {
  source: string;
  /** The scan root (report base directory). */
  baseDir: string;
  startedAt: string;
  findings: Finding[];
  rules: ReadonlyMap<string, RuleDefinition>;
  policy: TriggerPolicy;
}

export interface RunResult {
  runId: number;
  findings: number;
  newFindings: number;
  triggers: string[];
}

export interface OutboxRow {
  seq: number;
  id: string;
  fingerprint: string;
  event: string;
}

export interface SinkOutcome {
  sink: string;
  acked: { row: OutboxRow; duplicate: boolean }[];
  failed: { row: OutboxRow; error: string }[];
}

export interface DeliveryState {
  sink: string;
  attempts: number;
  ackedAt: string | null;
  duplicate: boolean;
  lastError: string | null;
}

export interface TriggerListing {
  seq: number;
  id: string;
  fingerprint: string;
  state: OutboxState;
  createdAt: string;
  doneAt: string | null;
  ruleId: string;
  provider: string;
  severity: Severity;
  findingStatus: FindingStatus;
  path: string;
  line: number;
  event: string;
  deliveries: DeliveryState[];
}

export interface FindingRow {
  fingerprint: string;
  rule_id: string;
  provider: string;
  severity: Severity;
  confidence: Confidence;
  identity: string | null;
  status: FindingStatus;
  status_at: string;
  note: string | null;
  first_seen_at: string;
  first_source: string;
  first_target: string;
  first_path: string;
  first_line: number;
  first_column: number;
  first_commit: string | null;
  first_layer: string | null;
  first_properties: string | null;
  last_seen_at: string;
  last_source: string;
  last_target: string;
  last_path: string;
  last_line: number;
  last_commit: string | null;
  last_layer: string | null;
  locations: number;
  times_seen: number;
}

export const now = (): string => new Date().toISOString();

/** Who is delivering (see Store.acquireDeliveryLease). */
export interface DeliveryLease {
  host: string;
  pid: number;
  token: string;
  /** Epoch milliseconds. */
  expires: number;
}

/** On this host a lease's process can be asked whether it still runs; elsewhere only time tells. */
function leaseHolderAlive(lease: DeliveryLease): boolean {
  if (lease.host !== hostname()) return true;
  try {
    process.kill(lease.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Store {
  private constructor(
    readonly db: Database.Database,
    readonly file: string,
  ) {}

  /** Opens (and with `create`, creates) the store at `file`. Problems are one-line UserErrors. */
  static open(file: string, options: { create: boolean }): Store {
    if (!options.create && !existsSync(file)) {
      throw new UserError(`no state store at ${file} (a scan with --state FILE or a triggers section in .leakhound.yaml creates it)`);
    }
    let db: Database.Database;
    try {
      if (options.create) mkdirSync(dirname(file), { recursive: true });
      db = new Database(file, { timeout: 30_000 });
    } catch (e) {
      throw new UserError(`cannot open state store ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.transaction(() => {
        db.exec(SCHEMA);
        const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
        if (row === undefined) db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
        else if (Number(row.value) > SCHEMA_VERSION) throw new UserError(`state store ${file} was written by a newer leakhound (schema ${row.value}); upgrade leakhound`);
      }).immediate();
    } catch (e) {
      db.close();
      if (e instanceof UserError) throw e;
      throw new UserError(`cannot use state store ${file}: ${(e as Error).message}`);
    }
    return new Store(db, file);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Takes (or, with the same token, extends) the right to deliver: two `deliver` runs at once would
   * both send the same batches. Returns the other holder when the lease is held, else undefined.
   * A lease whose process is gone (same host) or whose time ran out is taken over.
   */
  acquireDeliveryLease(token: string, ttlMs: number): DeliveryLease | undefined {
    const db = this.db;
    return db
      .transaction((): DeliveryLease | undefined => {
        const row = db.prepare("SELECT value FROM meta WHERE key = 'delivery_lease'").get() as { value: string } | undefined;
        if (row !== undefined) {
          let held: DeliveryLease | undefined;
          try {
            held = JSON.parse(row.value) as DeliveryLease;
          } catch {
            held = undefined;
          }
          if (held !== undefined && held.token !== token && held.expires > Date.now() && leaseHolderAlive(held)) return held;
        }
        const mine: DeliveryLease = { host: hostname(), pid: process.pid, token, expires: Date.now() + ttlMs };
        db.prepare("INSERT INTO meta (key, value) VALUES ('delivery_lease', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(JSON.stringify(mine));
        return undefined;
      })
      .immediate();
  }

  releaseDeliveryLease(token: string): void {
    if (!this.db.open) return;
    this.db.prepare("DELETE FROM meta WHERE key = 'delivery_lease' AND json_extract(value, '$.token') = ?").run(token);
  }

  /**
   * Records one scan: the run, every finding (new ones inserted, known ones' last-seen updated) and,
   * in the same transaction, an outbox trigger for each newly exposed secret that meets the policy.
   * A secret triggers once: a finding already triggered, rotated or ignored never triggers again.
   */
  recordRun(input: RunInput): RunResult {
    const at = now();
    const db = this.db;
    const selectFinding = db.prepare('SELECT * FROM findings WHERE fingerprint = ?');
    const insertFinding = db.prepare(`INSERT INTO findings (
        fingerprint, rule_id, provider, severity, confidence, identity, status, status_at,
        first_seen_at, first_run, first_source, first_target, first_path, first_line, first_column, first_commit, first_layer, first_properties,
        last_seen_at, last_run, last_source, last_target, last_path, last_line, last_commit, last_layer, locations, times_seen)
      VALUES (@fingerprint, @rule_id, @provider, @severity, @confidence, @identity, 'open', @at,
        @at, @run, @source, @target, @path, @line, @column, @commit, @layer, @properties,
        @at, @run, @source, @target, @path, @line, @commit, @layer, @locations, 1)`);
    const updateFinding = db.prepare(`UPDATE findings SET
        last_seen_at = @at, last_run = @run, last_source = @source, last_target = @target, last_path = @path,
        last_line = @line, last_commit = @commit, last_layer = @layer, locations = @locations, times_seen = times_seen + 1,
        identity = COALESCE(identity, @identity)
      WHERE fingerprint = @fingerprint`);
    const markTriggered = db.prepare("UPDATE findings SET status = 'triggered', status_at = ? WHERE fingerprint = ? AND status = 'open'");
    // a finding re-opened by `triggers ack --status open` whose trigger was cancelled gets it back in the queue
    const insertOutbox = db.prepare(`INSERT INTO outbox (id, fingerprint, created_at, event) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET state = 'pending', done_at = NULL, created_at = excluded.created_at, event = excluded.event
      WHERE outbox.state = 'cancelled'`);
    const qualifies = (f: Finding): boolean =>
      severityRank(f.severity) >= severityRank(input.policy.minSeverity) && confidenceRank(f.confidence) >= confidenceRank(input.policy.minConfidence);

    return db
      .transaction((): RunResult => {
        const runId = Number(
          db
            .prepare('INSERT INTO runs (started_at, finished_at, source, target, scanner_version) VALUES (?, ?, ?, ?, ?)')
            .run(input.startedAt, at, input.source, input.baseDir, toolVersion).lastInsertRowid,
        );
        let newFindings = 0;
        const triggers: string[] = [];
        for (const f of input.findings) {
          if (f.locations.length === 0) continue;
          const loc = describeLocation(f.locations[0]!, input.source, input.baseDir);
          const params = {
            fingerprint: f.fingerprint,
            rule_id: f.ruleId,
            provider: f.provider,
            severity: f.severity,
            confidence: f.confidence,
            identity: f.identity ?? null,
            at,
            run: runId,
            source: loc.source,
            target: loc.target,
            path: loc.path,
            line: loc.line,
            column: loc.column,
            commit: loc.commit ?? null,
            layer: loc.layer ?? null,
            properties: loc.properties ? JSON.stringify(loc.properties) : null,
            locations: f.locations.length + (f.omittedLocations ?? 0),
          };
          const row = selectFinding.get(f.fingerprint) as FindingRow | undefined;
          let first: TriggerLocation = loc;
          let firstSeen = at;
          if (row === undefined) {
            insertFinding.run(params);
            newFindings++;
          } else {
            updateFinding.run(params);
            first = firstLocationOf(row);
            firstSeen = row.first_seen_at;
            if (row.status !== 'open') continue;
          }
          if (!qualifies(f)) continue;
          const event = buildEvent(f, input.rules.get(f.ruleId), first, firstSeen, at);
          const inserted = insertOutbox.run(event.id, f.fingerprint, at, JSON.stringify(event)).changes > 0;
          markTriggered.run(at, f.fingerprint);
          if (inserted) triggers.push(event.id);
        }
        db.prepare('UPDATE runs SET findings = ?, new_findings = ?, triggers = ? WHERE id = ?').run(input.findings.length, newFindings, triggers.length, runId);
        appendAudit(
          db,
          'scan',
          {
            run: runId,
            source: input.source,
            target: input.baseDir,
            startedAt: input.startedAt,
            scanner: toolVersion,
            findings: input.findings.length,
            newFindings,
            triggers: triggers.length,
            triggerIds: triggers,
          },
          at,
        );
        return { runId, findings: input.findings.length, newFindings, triggers };
      })
      .immediate();
  }

  /** Pending triggers after `seq`, oldest first. */
  pendingAfter(seq: number, limit: number): OutboxRow[] {
    return this.db
      .prepare("SELECT seq, id, fingerprint, event FROM outbox WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?")
      .all(seq, limit) as OutboxRow[];
  }

  pendingCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }).n;
  }

  /** For each of `rows`, the sinks that already acknowledged it. */
  ackedSinks(rows: OutboxRow[]): Map<number, Set<string>> {
    const out = new Map<number, Set<string>>();
    if (rows.length === 0) return out;
    const found = this.db
      .prepare('SELECT trigger_seq AS seq, sink FROM deliveries WHERE acked_at IS NOT NULL AND trigger_seq BETWEEN ? AND ?')
      .all(rows[0]!.seq, rows[rows.length - 1]!.seq) as { seq: number; sink: string }[];
    for (const r of found) {
      let s = out.get(r.seq);
      if (!s) out.set(r.seq, (s = new Set()));
      s.add(r.sink);
    }
    return out;
  }

  /**
   * Records what the sinks said about one batch, in one transaction with its audit entries.
   * A trigger leaves the outbox (state delivered) only once every sink in `allSinks` acknowledged it.
   */
  recordDeliveries(outcomes: SinkOutcome[], allSinks: string[], batch: OutboxRow[]): number {
    const db = this.db;
    const at = now();
    const ack = db.prepare(`INSERT INTO deliveries (trigger_seq, sink, attempts, acked_at, duplicate, last_attempt_at, last_error)
      VALUES (?, ?, 1, ?, ?, ?, NULL)
      ON CONFLICT (trigger_seq, sink) DO UPDATE SET attempts = attempts + 1, acked_at = excluded.acked_at,
        duplicate = excluded.duplicate, last_attempt_at = excluded.last_attempt_at, last_error = NULL`);
    const fail = db.prepare(`INSERT INTO deliveries (trigger_seq, sink, attempts, acked_at, last_attempt_at, last_error)
      VALUES (?, ?, 1, NULL, ?, ?)
      ON CONFLICT (trigger_seq, sink) DO UPDATE SET attempts = attempts + 1, last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error`);
    // the batch is every pending trigger in its seq range, so one statement settles it
    const done = db.prepare(`UPDATE outbox SET state = 'delivered', done_at = ?
      WHERE seq BETWEEN ? AND ? AND state = 'pending'
        AND (SELECT count(*) FROM deliveries d WHERE d.trigger_seq = outbox.seq AND d.acked_at IS NOT NULL
             AND d.sink IN (SELECT value FROM json_each(?))) = ?`);
    const sinksJson = JSON.stringify(allSinks);
    const lo = batch.reduce((m, r) => Math.min(m, r.seq), Infinity);
    const hi = batch.reduce((m, r) => Math.max(m, r.seq), -Infinity);
    return db
      .transaction((): number => {
        for (const o of outcomes) {
          for (const a of o.acked) ack.run(a.row.seq, o.sink, at, a.duplicate ? 1 : 0, at);
          for (const f of o.failed) fail.run(f.row.seq, o.sink, at, f.error.slice(0, 500));
          if (o.acked.length > 0 || o.failed.length > 0) {
            const errors = [...new Set(o.failed.map((f) => f.error))].slice(0, 5);
            appendAudit(
              db,
              'delivery',
              {
                sink: o.sink,
                delivered: o.acked.map((a) => a.row.id),
                duplicates: o.acked.filter((a) => a.duplicate).length,
                failed: o.failed.map((f) => f.row.id),
                ...(errors.length > 0 ? { errors } : {}),
              },
              at,
            );
          }
        }
        return batch.length === 0 ? 0 : done.run(at, lo, hi, sinksJson, allSinks.length).changes;
      })
      .immediate();
  }

  listTriggers(state: OutboxState | 'all', limit?: number): TriggerListing[] {
    const rows = this.db
      .prepare(
        `SELECT o.seq, o.id, o.fingerprint, o.state, o.created_at AS createdAt, o.done_at AS doneAt, o.event,
                f.rule_id AS ruleId, f.provider, f.severity, f.status AS findingStatus, f.first_path AS path, f.first_line AS line
         FROM outbox o JOIN findings f ON f.fingerprint = o.fingerprint
         WHERE (? = 'all' OR o.state = ?) ORDER BY o.seq ${limit !== undefined ? 'LIMIT ' + Math.floor(limit) : ''}`,
      )
      .all(state, state) as Omit<TriggerListing, 'deliveries'>[];
    const del = this.db.prepare('SELECT sink, attempts, acked_at AS ackedAt, duplicate, last_error AS lastError FROM deliveries WHERE trigger_seq = ? ORDER BY sink');
    return rows.map((r) => ({
      ...r,
      deliveries: (del.all(r.seq) as (Omit<DeliveryState, 'duplicate'> & { duplicate: number })[]).map((d) => ({ ...d, duplicate: d.duplicate === 1 })),
    }));
  }

  findings(status?: FindingStatus): FindingRow[] {
    return this.db
      .prepare(`SELECT * FROM findings ${status ? 'WHERE status = ?' : ''} ORDER BY first_seen_at, fingerprint`)
      .all(...(status ? [status] : [])) as FindingRow[];
  }

  /**
   * Resolves fingerprints (or unique prefixes of at least 8 characters) and trigger ids to
   * fingerprints. Unknown or ambiguous keys are a UserError naming the first one.
   */
  resolve(keys: string[]): string[] {
    const byFp = this.db.prepare('SELECT fingerprint FROM findings WHERE fingerprint >= ? AND fingerprint < ? LIMIT 2');
    const byId = this.db.prepare('SELECT fingerprint FROM outbox WHERE id = ?');
    return keys.map((raw) => {
      const k = raw.trim().toLowerCase();
      const viaId = byId.get(k) as { fingerprint: string } | undefined;
      if (viaId) return viaId.fingerprint;
      if (!/^[0-9a-f]{8,64}$/.test(k)) throw new UserError(`'${raw}' is neither a fingerprint (hex, at least 8 characters) nor a trigger id in ${this.file}`);
      const hits = byFp.all(k, k + 'g') as { fingerprint: string }[];
      if (hits.length === 0) throw new UserError(`no finding with fingerprint ${k} in ${this.file}`);
      if (hits.length > 1) throw new UserError(`fingerprint prefix ${k} is ambiguous in ${this.file}: give more characters`);
      return hits[0]!.fingerprint;
    });
  }

  /** Sets the status of findings (rotated, ignored...); their pending triggers are cancelled when the secret is dealt with. */
  setStatus(fingerprints: string[], status: FindingStatus, note: string | undefined): { changed: number; cancelled: number } {
    const db = this.db;
    const at = now();
    return db
      .transaction(() => {
        let changed = 0;
        let cancelled = 0;
        const update = db.prepare('UPDATE findings SET status = ?, status_at = ?, note = COALESCE(?, note) WHERE fingerprint = ?');
        const cancel = db.prepare("UPDATE outbox SET state = 'cancelled', done_at = ? WHERE fingerprint = ? AND state = 'pending'");
        for (const fp of new Set(fingerprints)) {
          changed += update.run(status, at, note ?? null, fp).changes;
          if (status === 'rotated' || status === 'ignored') cancelled += cancel.run(at, fp).changes;
        }
        appendAudit(db, 'status', { status, fingerprints: [...new Set(fingerprints)], ...(note !== undefined ? { note } : {}), cancelledTriggers: cancelled }, at);
        return { changed, cancelled };
      })
      .immediate();
  }

  /**
   * With fingerprints: puts their triggers back in the outbox and forgets every sink's
   * acknowledgement, so each sink receives them again (sinks drop duplicates by trigger id).
   * Without: clears the failure record of every pending trigger.
   */
  requeue(fingerprints: string[] | undefined): number {
    const db = this.db;
    const at = now();
    return db
      .transaction(() => {
        let n = 0;
        if (fingerprints === undefined) {
          n = db.prepare("UPDATE deliveries SET attempts = 0, last_error = NULL WHERE acked_at IS NULL AND trigger_seq IN (SELECT seq FROM outbox WHERE state = 'pending')").run().changes;
          appendAudit(db, 'requeue', { failedDeliveriesReset: n }, at);
          return n;
        }
        const ids: string[] = [];
        for (const fp of new Set(fingerprints)) {
          const row = db.prepare('SELECT seq, id FROM outbox WHERE fingerprint = ?').get(fp) as { seq: number; id: string } | undefined;
          if (!row) throw new UserError(`finding ${fp} has no trigger (it did not meet the trigger policy, or was never triggered)`);
          db.prepare("UPDATE outbox SET state = 'pending', done_at = NULL WHERE seq = ?").run(row.seq);
          db.prepare('DELETE FROM deliveries WHERE trigger_seq = ?').run(row.seq);
          db.prepare("UPDATE findings SET status = 'triggered', status_at = ? WHERE fingerprint = ? AND status = 'open'").run(at, fp);
          ids.push(row.id);
          n++;
        }
        appendAudit(db, 'requeue', { triggers: ids }, at);
        return n;
      })
      .immediate();
  }

  *auditEntries(): Generator<AuditEntry> {
    const it = this.db.prepare('SELECT seq, at, kind, data, prev_hash AS prevHash, hash FROM audit ORDER BY rowid').iterate() as IterableIterator<AuditEntry>;
    yield* it;
  }

  /** SQLite's own consistency check ('ok' when sound). */
  quickCheck(): string {
    const rows = this.db.pragma('quick_check') as { quick_check: string }[];
    return rows.map((r) => r.quick_check).join('; ');
  }
}

function firstLocationOf(row: FindingRow): TriggerLocation {
  return {
    source: row.first_source,
    target: row.first_target,
    path: row.first_path,
    line: row.first_line,
    column: row.first_column,
    ...(row.first_commit !== null ? { commit: row.first_commit } : {}),
    ...(row.first_layer !== null ? { layer: row.first_layer } : {}),
    ...(row.first_properties !== null ? { properties: JSON.parse(row.first_properties) as Record<string, string | number | boolean> } : {}),
  };
}
