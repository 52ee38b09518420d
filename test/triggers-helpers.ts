/**
 * Shared by the triggers and audit tests: service URLs, a webhook receiver, schema validation,
 * and running the built CLI asynchronously (so the test process can serve the webhook meanwhile).
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { cliPath, repoRoot, type CliResult } from './helpers/cli.js';

export const NATS_URL = process.env['LEAKHOUND_TEST_NATS_URL'] || 'nats://127.0.0.1:4222';
export const REDIS_URL = process.env['LEAKHOUND_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';
export const REQUIRE_SERVICES = process.env['LEAKHOUND_TEST_REQUIRE_SERVICES'] === '1';

/** A name unique to this test run, for streams and subjects. */
export const runTag = (): string => `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Is something listening at the URL's host and port? */
export function serviceUp(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = tcpConnect({ host: u.hostname, port: Number(u.port || defaultPort) });
    s.setTimeout(2000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Skips a test whose service is not running, except under .ci/run (LEAKHOUND_TEST_REQUIRE_SERVICES=1),
 * where a missing service fails the test.
 */
export function needService(up: boolean, name: string, url: string, skip: () => void): void {
  if (up) return;
  if (REQUIRE_SERVICES) throw new Error(`${name} is not reachable at ${url} (LEAKHOUND_TEST_REQUIRE_SERVICES=1)`);
  skip();
}

/** Runs the built CLI without blocking the event loop. */
export function runCliAsync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...(options.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
ajv.addFormat('uri', /^https?:\/\/\S+$/);
const validate = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schemas', 'trigger-v1.schema.json'), 'utf8')) as object);

/** Throws with the schema errors when `event` is not a valid trigger v1. */
export function assertValidTrigger(event: unknown): void {
  if (!validate(event)) throw new Error(`trigger does not match schemas/trigger-v1.schema.json: ${ajv.errorsText(validate.errors)}`);
}

export interface Received {
  id: string;
  body: string;
  headers: IncomingMessage['headers'];
  signatureOk: boolean;
}

/**
 * A webhook receiver: checks each request's HMAC signature and records it. `answer` decides the
 * status for the n-th request (1-based); returning 'hang' never answers.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  requests = 0;
  private readonly hanging: ServerResponse[] = [];
  private server: Server | undefined;
  answer: (n: number, req: Received) => number | 'hang' = () => 200;

  constructor(readonly secret: string) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const n = ++this.requests;
        const expected = Buffer.from('sha256=' + createHmac('sha256', this.secret).update(body).digest('hex'));
        const got = Buffer.from(String(req.headers['x-leakhound-signature-256'] ?? ''));
        const signatureOk = got.length === expected.length && timingSafeEqual(got, expected);
        const rec: Received = { id: String(req.headers['x-leakhound-trigger-id'] ?? ''), body, headers: req.headers, signatureOk };
        const status = this.answer(n, rec);
        if (status === 'hang') {
          this.hanging.push(res);
          return;
        }
        if (status >= 200 && status < 300) this.received.push(rec);
        res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  get hangingCount(): number {
    return this.hanging.length;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging.splice(0)) r.destroy();
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every message of a JetStream stream: its Nats-Msg-Id header and parsed payload. */
export async function readNatsStream(url: string, stream: string): Promise<{ msgId: string; event: { id: string } & Record<string, unknown> }[]> {
  const { connect } = await import('nats');
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    const total = (await jsm.streams.info(stream)).state.messages;
    const out: { msgId: string; event: { id: string } & Record<string, unknown> }[] = [];
    const consumer = await nc.jetstream().consumers.get(stream);
    while (out.length < total) {
      const batch = await consumer.fetch({ max_messages: Math.min(1000, total - out.length), expires: 5000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        out.push({ msgId: m.headers?.get('Nats-Msg-Id') ?? '', event: JSON.parse(new TextDecoder().decode(m.data)) as { id: string } });
      }
      if (got === 0) throw new Error(`stream ${stream}: read ${out.length} of ${total} messages`);
    }
    return out;
  } finally {
    await nc.close();
  }
}

export async function deleteNatsStream(url: string, stream: string): Promise<void> {
  const { connect } = await import('nats');
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/** Every entry of a Redis stream (fields id, fingerprint, event). */
export async function readRedisStream(url: string, key: string): Promise<{ id: string; fingerprint: string; event: string }[]> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  try {
    const entries = await r.xrange(key, '-', '+');
    return entries.map(([, fields]) => {
      const m: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) m[fields[i]!] = fields[i + 1]!;
      return { id: m['id'] ?? '', fingerprint: m['fingerprint'] ?? '', event: m['event'] ?? '' };
    });
  } finally {
    r.disconnect();
  }
}

/** Removes a Redis stream and its de-duplication keys. */
export async function deleteRedisStream(url: string, key: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${key}:dedupe:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.unlink(...keys);
    } while (cursor !== '0');
    await r.unlink(key);
  } finally {
    r.disconnect();
  }
}
