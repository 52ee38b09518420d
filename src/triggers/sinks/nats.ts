// the client library loads only when a NATS sink opens: every scan command imports the sinks
import type { JetStreamClient, NatsConnection } from 'nats';
import { redactUrl, type NatsSinkSpec } from '../config.js';
import type { OutboxRow } from '../store.js';
import { allFailed, errorText, type SendOutcome, type SendResult, type Sink } from './types.js';

const STREAM_NOT_FOUND = 10059;

/**
 * Publishes to a NATS JetStream subject and waits for the stream's acknowledgement. The trigger id is
 * the Nats-Msg-Id, so the server drops a re-sent trigger within the stream's duplicate window.
 */
export class NatsSink implements Sink {
  readonly type = 'nats';
  readonly name: string;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private readonly encoder = new TextEncoder();

  constructor(private readonly spec: NatsSinkSpec) {
    this.name = spec.name;
  }

  async open(): Promise<void> {
    let nc: NatsConnection;
    try {
      const { connect } = await import('nats');
      nc = await connect({ servers: this.spec.url, timeout: this.spec.timeoutMs, reconnect: false, name: 'leakhound' });
    } catch (e) {
      throw new Error(`cannot connect to ${redactUrl(this.spec.url)}: ${errorText(e)}`);
    }
    this.nc = nc;
    if (this.spec.stream !== undefined) {
      const jsm = await nc.jetstreamManager({ timeout: this.spec.timeoutMs });
      try {
        await jsm.streams.info(this.spec.stream);
      } catch (e) {
        if ((e as { api_error?: { err_code?: number } }).api_error?.err_code !== STREAM_NOT_FOUND) throw e;
        await jsm.streams.add({ name: this.spec.stream, subjects: [this.spec.subject] });
      }
    }
    this.js = nc.jetstream({ timeout: this.spec.timeoutMs });
  }

  async send(rows: OutboxRow[]): Promise<SendOutcome> {
    const js = this.js;
    if (!js || !this.nc || this.nc.isClosed()) return allFailed(rows, 'not connected', true);
    const settled = await Promise.allSettled(
      rows.map((r) => js.publish(this.spec.subject, this.encoder.encode(r.event), { msgID: r.id, timeout: this.spec.timeoutMs })),
    );
    const results: SendResult[] = settled.map((s) =>
      s.status === 'fulfilled' ? { ok: true, duplicate: s.value.duplicate } : { ok: false, error: this.describe(s.reason) },
    );
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0 && (failed.length === results.length || this.nc.isClosed())) return { results, down: failed[0]!.error! };
    return { results };
  }

  private describe(e: unknown): string {
    const code = (e as { code?: string }).code;
    if (code === '503') return `no JetStream stream captures subject '${this.spec.subject}' (create one, or set 'stream' on the sink)`;
    if (code === 'TIMEOUT') return `timed out waiting for the JetStream acknowledgement after ${this.spec.timeoutMs} ms`;
    return errorText(e);
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    if (nc && !nc.isClosed()) await nc.close();
  }
}
