import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
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
    this.fd = openSync(this.spec.path, 'a+', 0o644);
    // a process killed mid-write may have left half a line: end it, so the next trigger starts on its own line
    const size = fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) writeSync(this.fd, '\n');
    }
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
