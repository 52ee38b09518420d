// the client library loads only when a Redis sink opens: every scan command imports the sinks
import type { Redis } from 'ioredis';
import { redactUrl, type RedisSinkSpec } from '../config.js';
import type { OutboxRow } from '../store.js';
import { allFailed, errorText, type SendOutcome, type SendResult, type Sink } from './types.js';

/**
 * XADD to a Redis stream, idempotent on the trigger id: one Lua script checks and sets a
 * per-trigger key (`<stream>:dedupe:<id>`, kept `dedupe-ttl` seconds) and adds the entry, atomically.
 * Entry fields: id, fingerprint, event (the trigger JSON).
 */
const ADD_ONCE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'fingerprint', ARGV[2], 'event', ARGV[3])
redis.call('SET', KEYS[2], entry, 'EX', tonumber(ARGV[4]))
return 1
`;

interface AddOnce {
  leakhoundAddOnce(stream: string, dedupeKey: string, id: string, fingerprint: string, event: string, ttl: number): unknown;
}

export class RedisSink implements Sink {
  readonly type = 'redis';
  readonly name: string;
  private client: Redis | undefined;
  private lastError: string | undefined;

  constructor(private readonly spec: RedisSinkSpec) {
    this.name = spec.name;
  }

  async open(): Promise<void> {
    const { Redis } = await import('ioredis');
    const client = new Redis(this.spec.url, {
      lazyConnect: true,
      connectTimeout: this.spec.timeoutMs,
      commandTimeout: this.spec.timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    // Connection errors are reported through connect() and command failures; keep them off stderr.
    client.on('error', (e: unknown) => {
      this.lastError = errorText(e);
    });
    client.defineCommand('leakhoundAddOnce', { numberOfKeys: 2, lua: ADD_ONCE });
    this.client = client;
    try {
      await client.connect();
    } catch (e) {
      client.disconnect();
      throw new Error(`cannot connect to ${redactUrl(this.spec.url)}: ${this.lastError ?? errorText(e)}`);
    }
  }

  async send(rows: OutboxRow[]): Promise<SendOutcome> {
    const client = this.client;
    if (!client || client.status !== 'ready') return allFailed(rows, this.lastError ?? 'not connected', true);
    const pipeline = client.pipeline();
    for (const r of rows) {
      (pipeline as unknown as AddOnce).leakhoundAddOnce(this.spec.stream, `${this.spec.stream}:dedupe:${r.id}`, r.id, r.fingerprint, r.event, this.spec.dedupeTtl);
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (e) {
      return allFailed(rows, errorText(e));
    }
    if (!replies) return allFailed(rows, this.lastError ?? 'connection closed');
    const results: SendResult[] = replies.map(([err, res]) => (err ? { ok: false, error: errorText(err) } : { ok: true, duplicate: res === 0 }));
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0 && (failed.length === results.length || client.status !== 'ready')) return { results, down: failed[0]!.error! };
    return { results };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    try {
      if (c.status === 'ready') await c.quit();
      else c.disconnect();
    } catch {
      c.disconnect();
    }
  }
}
