import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JsonlSinkSpec } from '../config.js';
import type { OutboxRow } from '../store.js';
import { allFailed, errorText, type SendOutcome, type Sink } from './types.js';

/** One trigger per line, appended to a file (flushed to disk before acknowledging) or written to stdout. */
export class JsonlSink implements Sink {
  readonly type = 'jsonl';
  readonly name: string;
  private fd: number | undefined;

  constructor(private readonly spec: JsonlSinkSpec) {
    this.name = spec.name;
  }

  async open(): Promise<void> {
    if (this.spec.path === '-') return;
    mkdirSync(dirname(this.spec.path), { recursive: true });
    this.fd = openSync(this.spec.path, 'a', 0o644);
  }

  async send(rows: OutboxRow[]): Promise<SendOutcome> {
    const text = rows.map((r) => r.event + '\n').join('');
    try {
      if (this.fd === undefined) {
        await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
      } else {
        writeSync(this.fd, text);
        fsyncSync(this.fd);
      }
    } catch (e) {
      return allFailed(rows, errorText(e));
    }
    return { results: rows.map(() => ({ ok: true })) };
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
