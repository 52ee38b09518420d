import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookSinkSpec } from '../config.js';
import type { OutboxRow } from '../store.js';
import { toolVersion } from '../../version.js';
import { errorText, type SendOutcome, type SendResult, type Sink } from './types.js';

export const SIGNATURE_HEADER = 'x-leakhound-signature-256';
const MAX_DELAY_MS = 30_000;

/** sha256=<hex HMAC-SHA256 of the body with the shared secret>: what a receiver recomputes and compares. */
export function signBody(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

type Attempt = { ok: true } | { ok: false; error: string; retryable: boolean; retryAfterMs?: number };

/**
 * POSTs each trigger as its own JSON body, signed with HMAC-SHA256. Network errors, timeouts,
 * 408/425/429 and 5xx are retried with exponential backoff and full jitter; when the retries run
 * out the receiver counts as down for this run and its triggers stay queued. Other 4xx answers fail
 * that one trigger (it stays queued) without retrying.
 */
export class WebhookSink implements Sink {
  readonly type = 'webhook';
  readonly name: string;

  constructor(
    private readonly spec: WebhookSinkSpec,
    private readonly secret: string,
  ) {
    this.name = spec.name;
  }

  private agent: http.Agent | undefined;

  async open(): Promise<void> {
    // keep-alive connections, one per concurrent request
    const mod = new URL(this.spec.url).protocol === 'https:' ? https : http;
    this.agent = new mod.Agent({ keepAlive: true, maxSockets: this.spec.concurrency });
  }

  async send(rows: OutboxRow[]): Promise<SendOutcome> {
    const results: SendResult[] = new Array<SendResult>(rows.length);
    let down: string | undefined;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (down === undefined && next < rows.length) {
        const i = next++;
        const r = await this.deliverOne(rows[i]!);
        if (r.ok) results[i] = { ok: true };
        else {
          results[i] = { ok: false, error: r.error };
          if (r.retryable) down ??= r.error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.spec.concurrency, rows.length) }, worker));
    for (let i = 0; i < rows.length; i++) results[i] ??= { ok: false, error: down ?? 'not attempted', skipped: true };
    return down !== undefined ? { results, down } : { results };
  }

  private async deliverOne(row: OutboxRow): Promise<Attempt> {
    let last: Attempt = { ok: false, error: 'not attempted', retryable: true };
    for (let attempt = 0; attempt <= this.spec.retries; attempt++) {
      if (attempt > 0) {
        // exponential backoff with full jitter; a Retry-After from the receiver is honoured (capped)
        const ceiling = Math.min(MAX_DELAY_MS, this.spec.backoffMs * 2 ** (attempt - 1));
        const retryAfter = last.ok ? 0 : Math.min(MAX_DELAY_MS, last.retryAfterMs ?? 0);
        await sleep(Math.max(Math.random() * ceiling, retryAfter));
      }
      last = await this.postOnce(row, attempt + 1);
      if (last.ok || !last.retryable) return last;
    }
    return last;
  }

  private async postOnce(row: OutboxRow, attempt: number): Promise<Attempt> {
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(row.event)),
      'user-agent': `leakhound/${toolVersion}`,
      'x-leakhound-event': 'rotation-trigger',
      'x-leakhound-trigger-id': row.id,
      'x-leakhound-delivery-attempt': String(attempt),
      'idempotency-key': row.id,
      [SIGNATURE_HEADER]: signBody(this.secret, row.event),
    };
    try {
      const res = await this.post(row.event, headers);
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const retryable = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
      const after = Number(res.retryAfter);
      return { ok: false, error: `HTTP ${res.status}`, retryable, ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {}) };
    } catch (e) {
      if (e instanceof TimeoutError) return { ok: false, error: `no answer within ${this.spec.timeoutMs} ms`, retryable: true };
      return { ok: false, error: errorText(e), retryable: true };
    }
  }

  /** One POST; resolves with the status once the whole answer is read, or fails after `timeout` ms overall. */
  private post(body: string, headers: Record<string, string>): Promise<{ status: number; retryAfter: string | undefined }> {
    const mod = new URL(this.spec.url).protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(this.spec.url, { method: 'POST', headers, agent: this.agent }, (res) => {
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          const ra = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(ra) ? ra[0] : ra });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      const timer = setTimeout(() => req.destroy(new TimeoutError()), this.spec.timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

class TimeoutError extends Error {}
