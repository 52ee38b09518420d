import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';

/**
 * Delivery rate of `leakhound triggers deliver` to each sink: 10,000 queued triggers, one child
 * process per sink (start-up included), against the NATS and Redis servers named by
 * LEAKHOUND_TEST_NATS_URL / LEAKHOUND_TEST_REDIS_URL (default loopback), a webhook receiver in this
 * process, and a JSONL file. The reference is the bare client doing the same sends without the store.
 */
interface BenchResult {
  name: string;
  bytes: number;
  seconds: number;
  reference?: { name: string; bytes: number; seconds: number };
  note?: string;
}

const TRIGGERS = 10_000;
const BATCH = 500;
const repoRoot = resolve(import.meta.dirname, '..', '..');
const cli = join(repoRoot, 'bin', 'leakhound.js');
const NATS_URL = process.env['LEAKHOUND_TEST_NATS_URL'] || 'nats://127.0.0.1:4222';
const REDIS_URL = process.env['LEAKHOUND_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function token(): string {
  for (;;) {
    let p = '';
    for (let i = 0; i < 30; i++) p += B62[randomInt(62)];
    let n = crc32(p);
    let c = '';
    do {
      c = B62[n % 62] + c;
      n = Math.floor(n / 62);
    } while (n > 0);
    const t = `ghp_${p}${c.padStart(6, '0')}`;
    if (!/example|xxxx|change_?me|dummy|placeholder|sample|your|redacted|fake|notreal|lorem|todo/i.test(t)) return t;
  }
}

function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ seconds: number; code: number; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, code: code ?? -1, stderr }));
  });
}

function up(url: string, port: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((res) => {
    const s = tcpConnect({ host: u.hostname, port: Number(u.port || port) });
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

/** The queued triggers of a store, as the sinks send them. */
function events(db: string): { id: string; fingerprint: string; event: string }[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare("SELECT id, fingerprint, event FROM outbox WHERE state = 'pending' ORDER BY seq").all() as { id: string; fingerprint: string; event: string }[];
  } finally {
    d.close();
  }
}

export async function benchTriggers(workDir: string): Promise<BenchResult[]> {
  const dir = join(workDir, 'triggers');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (let f = 0; f < 100; f++) {
    writeFileSync(join(dir, 'src', `f${f}.env`), Array.from({ length: TRIGGERS / 100 }, (_, i) => `T${i}=${token()}`).join('\n') + '\n');
  }
  const scan = await run(['dir', 'src', '-q', '-f', 'jsonl', '-o', 'findings.jsonl', '--state', 'base.db'], dir);
  if (scan.code !== 1) throw new Error(`scan failed: ${scan.stderr}`);
  const queued = events(join(dir, 'base.db'));
  const bytes = queued.reduce((n, e) => n + Buffer.byteLength(e.event), 0);
  const tag = randomBytes(4).toString('hex');
  const results: BenchResult[] = [];

  const deliverTo = async (label: string, sink: string, env: Record<string, string> = {}): Promise<number> => {
    const db = join(dir, `${label}.db`);
    copyFileSync(join(dir, 'base.db'), db);
    const r = await run(['triggers', 'deliver', '-q', '--state', db, '--sink', sink], dir, env);
    if (r.code !== 0) throw new Error(`deliver to ${label} failed: ${r.stderr}`);
    return r.seconds;
  };
  // start-up of the CLI with the store open and nothing to send: subtracted for the second rate
  let startup = Infinity;
  for (let i = 0; i < 3; i++) startup = Math.min(startup, (await run(['triggers', 'list', '--state', 'base.db', '--limit', '1'], dir)).seconds);
  const name = (sink: string, seconds: number): string =>
    `triggers deliver -> ${sink}: ${queued.length} triggers, ${Math.round(queued.length / seconds)} triggers/s ` +
    `(${Math.round(queued.length / Math.max(0.001, seconds - startup))}/s after ${startup.toFixed(2)} s start-up)`;

  // JSONL file
  {
    const s = await deliverTo('jsonl', 'jsonl:out.jsonl');
    const t0 = process.hrtime.bigint();
    writeFileSync(join(dir, 'ref.jsonl'), queued.map((e) => e.event + '\n').join(''));
    results.push({ name: name('jsonl file', s), bytes, seconds: s, reference: { name: 'one writeFileSync of the same lines', bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 } });
  }

  // webhook (receiver in this process)
  {
    const secret = randomBytes(16).toString('hex');
    let received = 0;
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const s = await deliverTo('webhook', url, { LEAKHOUND_WEBHOOK_SECRET: secret });
      if (received < queued.length) throw new Error(`webhook received ${received} of ${queued.length}`);
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const post = (body: string): Promise<void> =>
        new Promise((ok, fail) => {
          const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on('end', () => ok());
          });
          req.on('error', fail);
          req.end(body);
        });
      const t0 = process.hrtime.bigint();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < queued.length) await post(queued[next++]!.event);
        }),
      );
      agent.destroy();
      results.push({ name: name('webhook (8 concurrent POSTs)', s), bytes, seconds: s, reference: { name: 'bare node:http keep-alive, 8 concurrent POSTs', bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 } });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  // NATS JetStream
  if (await up(NATS_URL, 4222)) {
    const { connect } = await import('nats');
    const stream = `LH_BENCH_${tag}`;
    const subject = `leakhound.bench.${tag}`;
    const nc = await connect({ servers: NATS_URL });
    const jsm = await nc.jetstreamManager();
    try {
      const s = await deliverTo('nats', `${NATS_URL}?subject=${subject}&stream=${stream}`);
      await jsm.streams.purge(stream);
      const js = nc.jetstream();
      const enc = new TextEncoder();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < queued.length; i += BATCH) {
        await Promise.all(queued.slice(i, i + BATCH).map((e) => js.publish(subject, enc.encode(e.event), { msgID: `ref-${e.id}` })));
      }
      results.push({ name: name('NATS JetStream', s), bytes, seconds: s, reference: { name: `bare nats.js publish, ${BATCH} in flight`, bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 } });
    } finally {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  } else {
    results.push({ name: 'triggers deliver -> NATS JetStream', bytes, seconds: 0, note: `NATS not reachable at ${NATS_URL}` });
  }

  // Redis Streams
  if (await up(REDIS_URL, 6379)) {
    const { Redis } = await import('ioredis');
    const key = `leakhound:bench:${tag}`;
    const r = new Redis(REDIS_URL);
    try {
      const s = await deliverTo('redis', `${REDIS_URL}?stream=${encodeURIComponent(key)}`);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < queued.length; i += BATCH) {
        const p = r.pipeline();
        for (const e of queued.slice(i, i + BATCH)) p.xadd(`${key}:ref`, '*', 'id', e.id, 'fingerprint', e.fingerprint, 'event', e.event);
        await p.exec();
      }
      results.push({ name: name('Redis Streams', s), bytes, seconds: s, reference: { name: `bare ioredis XADD pipeline of ${BATCH}`, bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 } });
    } finally {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${key}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await r.unlink(...keys);
      } while (cursor !== '0');
      r.disconnect();
    }
  } else {
    results.push({ name: 'triggers deliver -> Redis Streams', bytes, seconds: 0, note: `Redis not reachable at ${REDIS_URL}` });
  }

  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return results;
}
