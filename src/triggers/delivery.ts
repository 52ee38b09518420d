import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store, OutboxRow, SinkOutcome, DeliveryLease } from './store.js';
import { allFailed, errorText, type SendOutcome, type Sink } from './sinks/types.js';

export interface SinkSummary {
  name: string;
  delivered: number;
  duplicates: number;
  failed: number;
  /** Why the sink stopped receiving in this run (unreachable, out of retries). */
  down?: string;
}

export interface DeliverySummary {
  sinks: SinkSummary[];
  /** Triggers that left the outbox in this run (acknowledged by every sink). */
  completed: number;
  /** Triggers still in the outbox afterwards. */
  pending: number;
  /** Another delivery held the queue for the whole wait: this run sent nothing. */
  busy?: DeliveryLease;
}

export interface DeliverOptions {
  /** Triggers read from the outbox and sent per round (default 500). */
  batchSize?: number;
  /** How long to wait for another delivery to finish before giving up (default 30 s). */
  leaseWaitMs?: number;
}

/**
 * A delivery holds the queue this long past its last batch; a holder that died on this host is
 * noticed at once, one on another host (a shared store) when this runs out.
 */
const LEASE_TTL_MS = 5 * 60_000;
const LEASE_POLL_MS = 200;

/**
 * Drains the outbox to every sink, at least once. Triggers go out in batches, oldest first; each
 * sink gets the ones it has not acknowledged yet; acknowledgements are written to the store after
 * each batch, so a crash re-sends at most one batch (which the sinks de-duplicate by trigger id).
 * A sink that goes down gets nothing more in this run; the others carry on. Only one delivery runs
 * at a time (a lease in the store); another waits for it, up to `leaseWaitMs`.
 */
export async function deliver(store: Store, sinks: Sink[], options: DeliverOptions = {}): Promise<DeliverySummary> {
  const batchSize = options.batchSize ?? 500;
  const summaries = new Map<string, SinkSummary>(sinks.map((s) => [s.name, { name: s.name, delivered: 0, duplicates: 0, failed: 0 }]));
  let completed = 0;
  if (store.pendingCount() === 0) return { sinks: [...summaries.values()], completed, pending: 0 };
  // One delivery at a time: a second one waits for the first (which also picks up what was queued
  // meanwhile), then sends whatever is left.
  const token = randomUUID();
  const waitUntil = Date.now() + (options.leaseWaitMs ?? 30_000);
  for (let holder = store.acquireDeliveryLease(token, LEASE_TTL_MS); holder !== undefined; holder = store.acquireDeliveryLease(token, LEASE_TTL_MS)) {
    if (Date.now() >= waitUntil) return { sinks: [...summaries.values()], completed, pending: store.pendingCount(), busy: holder };
    await sleep(LEASE_POLL_MS);
  }
  try {
    completed = await deliverHoldingLease(store, sinks, batchSize, summaries, token);
  } finally {
    store.releaseDeliveryLease(token);
  }
  return { sinks: [...summaries.values()], completed, pending: store.pendingCount() };
}

async function deliverHoldingLease(store: Store, sinks: Sink[], batchSize: number, summaries: Map<string, SinkSummary>, token: string): Promise<number> {
  const allNames = sinks.map((s) => s.name);
  const live = new Set<Sink>();
  let completed = 0;
  await Promise.all(
    sinks.map(async (s) => {
      try {
        await s.open();
        live.add(s);
      } catch (e) {
        summaries.get(s.name)!.down = errorText(e);
      }
    }),
  );
  try {
    let cursor = 0;
    for (;;) {
      const rows = store.pendingAfter(cursor, batchSize);
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.seq;
      const acked = store.ackedSinks(rows);
      const outcomes = await Promise.all(
        [...live].map(async (sink): Promise<SinkOutcome> => {
          const todo = rows.filter((r) => !acked.get(r.seq)?.has(sink.name));
          const outcome: SinkOutcome = { sink: sink.name, acked: [], failed: [] };
          if (todo.length === 0) return outcome;
          const sent: SendOutcome = await sink.send(todo).catch((e: unknown) => allFailed(todo, errorText(e)));
          const summary = summaries.get(sink.name)!;
          sent.results.forEach((r, i) => {
            const row: OutboxRow = todo[i]!;
            if (r.ok) {
              outcome.acked.push({ row, duplicate: r.duplicate === true });
              summary.delivered++;
              if (r.duplicate) summary.duplicates++;
            } else if (r.skipped !== true) {
              outcome.failed.push({ row, error: r.error ?? 'failed' });
              summary.failed++;
            }
          });
          if (sent.down !== undefined) {
            summary.down = sent.down;
            live.delete(sink);
          }
          return outcome;
        }),
      );
      completed += store.recordDeliveries(outcomes, allNames, rows);
      if (live.size === 0) break;
      // extend the lease; if it was taken over (this run outlived it), the other run sends the rest
      if (store.acquireDeliveryLease(token, LEASE_TTL_MS) !== undefined) break;
    }
  } finally {
    await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
  }
  return completed;
}
