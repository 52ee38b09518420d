import type { OutboxRow } from '../store.js';

/** What a sink said about one trigger. `skipped`: never attempted (the sink went down first). */
export interface SendResult {
  ok: boolean;
  duplicate?: boolean;
  error?: string;
  skipped?: boolean;
}

export interface SendOutcome {
  /** One result per row, in order. */
  results: SendResult[];
  /** Set when the sink is unreachable: it gets nothing more in this run, its triggers stay queued. */
  down?: string;
}

/** A destination for rotation triggers. A trigger counts as delivered only when `send` reports ok for it. */
export interface Sink {
  readonly name: string;
  readonly type: string;
  open(): Promise<void>;
  send(rows: OutboxRow[]): Promise<SendOutcome>;
  close(): Promise<void>;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const cause = (e as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : undefined;
    const msg = e.message.split('\n')[0]!;
    const base = code && !msg.includes(code) ? `${code}: ${msg}` : msg;
    return causeText && !base.includes(causeText) ? `${base} (${causeText})` : base;
  }
  return String(e);
}

/** Sends every row, or marks them all failed with the same error when the sink is down. */
export function allFailed(rows: OutboxRow[], error: string, skipped = false): SendOutcome {
  return { results: rows.map(() => ({ ok: false, error, ...(skipped ? { skipped } : {}) })), down: error };
}
