import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliPath, tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';
import {
  NATS_URL,
  REDIS_URL,
  WebhookReceiver,
  deleteNatsStream,
  deleteRedisStream,
  needService,
  readNatsStream,
  readRedisStream,
  runCliAsync,
  runTag,
  serviceUp,
  waitFor,
} from './triggers-helpers.js';

const TOTAL = 10_000;
const STALL_AFTER = 4_250; // mid-batch: the 9th batch of 500 is half acknowledged by the webhook when the process dies

let root: string;
let cleanup: () => void;
let natsUp = false;
let redisUp = false;
const tag = runTag();
const stream = `LH_CRASH_${tag}`;
const redisKey = `leakhound:crash:${tag}`;

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('leakhound-crash-'));
  [natsUp, redisUp] = await Promise.all([serviceUp(NATS_URL, 4222), serviceUp(REDIS_URL, 6379)]);
});
afterAll(async () => {
  if (natsUp) await deleteNatsStream(NATS_URL, stream);
  if (redisUp) await deleteRedisStream(REDIS_URL, redisKey);
  cleanup();
});

const pendingIn = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('crash and resume', () => {
  it(`SIGKILL in the middle of delivering ${TOTAL.toLocaleString('en-US')} triggers: the rerun delivers every one, none lost`, { timeout: 300_000 }, async (ctx) => {
    needService(natsUp, 'NATS', NATS_URL, () => ctx.skip());
    needService(redisUp, 'Redis', REDIS_URL, () => ctx.skip());
    const d = root;
    mkdirSync(join(d, 'src'));
    // 100 files of 100 secrets each; no token that the placeholder filter would drop (…todo…, …fake…)
    const token = (): string => {
      for (;;) {
        const t = githubToken();
        if (!/example|xxxx|change_?me|dummy|placeholder|sample|your|redacted|fake|notreal|lorem|todo/i.test(t)) return t;
      }
    };
    for (let f = 0; f < 100; f++) {
      writeFileSync(join(d, 'src', `f${f}.env`), Array.from({ length: TOTAL / 100 }, (_, i) => `T${i}=${token()}`).join('\n') + '\n');
    }

    // queue only: no sinks during the scan
    const scan = await runCliAsync(['dir', 'src', '-q', '-f', 'jsonl', '-o', 'findings.jsonl', '--state', 's.db'], { cwd: d });
    expect(scan.code, scan.stderr).toBe(1);
    const state = join(d, 's.db');
    expect(pendingIn(state)).toBe(TOTAL);
    const db = new Database(state, { readonly: true });
    const expected = new Set((db.prepare('SELECT id FROM outbox').all() as { id: string }[]).map((r) => r.id));
    db.close();
    expect(expected.size).toBe(TOTAL);

    const secret = `whsec-${tag}`;
    const rx = new WebhookReceiver(secret);
    const hook = await rx.start();
    rx.answer = (k) => (k <= STALL_AFTER ? 200 : 'hang');
    const args = [
      'triggers',
      'deliver',
      '--state',
      's.db',
      '--sink',
      `${NATS_URL}?subject=leakhound.crash.${tag}&stream=${stream}`,
      '--sink',
      `${REDIS_URL}?stream=${encodeURIComponent(redisKey)}`,
      '--sink',
      hook,
      '--sink',
      'jsonl:out/triggers.jsonl',
    ];
    const env = { ...process.env, LEAKHOUND_WEBHOOK_SECRET: secret };
    try {
      // first run: killed with SIGKILL while the webhook holds its requests open, mid-batch
      const child = spawn(process.execPath, [cliPath, ...args], { cwd: d, env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      await waitFor(() => rx.hangingCount > 0, 'the delivery to reach the stalled webhook', 120_000);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const left = pendingIn(state);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(TOTAL);
      const receivedBeforeCrash = rx.received.length;

      // second run: the receiver answers again; everything still queued goes out
      rx.answer = () => 200;
      const rerun = await runCliAsync(args, { cwd: d, env });
      expect(rerun.code, rerun.stderr + rerun.stdout).toBe(0);
      expect(pendingIn(state)).toBe(0);

      const nats = await readNatsStream(NATS_URL, stream);
      const redis = await readRedisStream(REDIS_URL, redisKey);
      const lines = readFileSync(join(d, 'out', 'triggers.jsonl'), 'utf8').trim().split('\n');
      const jsonlIds = lines.map((l) => (JSON.parse(l) as { id: string }).id);
      const hookIds = rx.received.map((r) => r.id);
      const counts = {
        nats: { messages: nats.length, distinct: new Set(nats.map((m) => m.msgId)).size },
        redis: { entries: redis.length, distinct: new Set(redis.map((e) => e.id)).size },
        webhook: { requestsAccepted: hookIds.length, distinct: new Set(hookIds).size, beforeCrash: receivedBeforeCrash },
        jsonl: { lines: jsonlIds.length, distinct: new Set(jsonlIds).size },
        pendingAfterCrash: left,
      };
      console.log(`crash test counts: ${JSON.stringify(counts)}`);
      // every trigger arrived at every sink
      for (const ids of [nats.map((m) => m.msgId), redis.map((e) => e.id), hookIds, jsonlIds]) {
        const got = new Set(ids);
        expect(got.size).toBe(TOTAL);
        for (const id of expected) if (!got.has(id)) throw new Error(`trigger ${id} was lost`);
      }
      // duplicates only as the idempotency key allows: NATS (Nats-Msg-Id) and Redis (dedupe key) hold none
      expect(nats.length).toBe(TOTAL);
      expect(redis.length).toBe(TOTAL);
      // the webhook and JSONL re-receive at most the one batch that was in flight (500)
      expect(hookIds.length - TOTAL).toBeLessThanOrEqual(500);
      expect(jsonlIds.length - TOTAL).toBeLessThanOrEqual(500);

      // the store survived the kill intact
      const verify = await runCliAsync(['audit', 'verify', '--state', 's.db'], { cwd: d });
      expect(verify.code, verify.stdout).toBe(0);
    } finally {
      await rx.stop();
    }
  });
});
