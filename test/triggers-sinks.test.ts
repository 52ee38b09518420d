import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';
import {
  NATS_URL,
  REDIS_URL,
  WebhookReceiver,
  assertValidTrigger,
  deleteNatsStream,
  deleteRedisStream,
  freePort,
  needService,
  readNatsStream,
  readRedisStream,
  runCliAsync,
  runTag,
  serviceUp,
} from './triggers-helpers.js';

let root: string;
let cleanup: () => void;
let natsUp = false;
let redisUp = false;
const streams: string[] = [];
const redisKeys: string[] = [];

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('leakhound-sinks-'));
  [natsUp, redisUp] = await Promise.all([serviceUp(NATS_URL, 4222), serviceUp(REDIS_URL, 6379)]);
});
afterAll(async () => {
  if (natsUp) for (const s of streams) await deleteNatsStream(NATS_URL, s);
  if (redisUp) for (const k of redisKeys) await deleteRedisStream(REDIS_URL, k);
  cleanup();
});

let n = 0;
/** A scan directory holding `count` fresh secrets. */
function project(count: number): string {
  const d = join(root, `p${++n}`);
  mkdirSync(join(d, 'src'), { recursive: true });
  writeFileSync(join(d, 'src', 'app.env'), Array.from({ length: count }, (_, i) => `TOKEN_${i}=${githubToken()}`).join('\n') + '\n');
  return d;
}

const jsonl = (file: string): { id: string }[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { id: string });

describe('sinks against real services', () => {
  it('NATS JetStream: one message per trigger, Nats-Msg-Id is the trigger id, a re-send is dropped as duplicate', async (ctx) => {
    needService(natsUp, 'NATS', NATS_URL, () => ctx.skip());
    const tag = runTag();
    const stream = `LH_${tag}`;
    streams.push(stream);
    const sink = `${NATS_URL}?subject=leakhound.test.${tag}&stream=${stream}`;
    const d = project(3);
    const scan = await runCliAsync(['dir', 'src', '-f', 'json', '--state', 's.db', '--sink', sink], { cwd: d });
    expect(scan.code, scan.stderr).toBe(1);
    expect(scan.stderr).toMatch(new RegExp(`nats:leakhound\\.test\\.${tag}: 3 triggers delivered\\n`));
    const msgs = await readNatsStream(NATS_URL, stream);
    expect(msgs).toHaveLength(3);
    for (const m of msgs) {
      assertValidTrigger(m.event);
      expect(m.msgId).toBe(m.event.id);
    }
    const fingerprints = (JSON.parse(scan.stdout) as { findings: { fingerprint: string }[] }).findings.map((f) => f.fingerprint).sort();
    expect(msgs.map((m) => m.event['fingerprint']).sort()).toEqual(fingerprints);

    const retry = await runCliAsync(['triggers', 'retry', ...msgs.map((m) => m.event.id), '--state', 's.db', '--sink', sink], { cwd: d });
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('3 triggers delivered (3 already there)');
    expect(await readNatsStream(NATS_URL, stream)).toHaveLength(3);
  });

  it('NATS: a subject no stream captures keeps the triggers queued, with the reason', async (ctx) => {
    needService(natsUp, 'NATS', NATS_URL, () => ctx.skip());
    const d = project(2);
    const subject = `leakhound.nostream.${runTag()}`;
    const r = await runCliAsync(['dir', 'src', '-q', '-o', 'report.txt', '--state', 's.db', '--sink', `${NATS_URL}?subject=${subject}`], { cwd: d });
    expect(r.code).toBe(1);
    const listed = await runCliAsync(['triggers', 'list', '--state', 's.db', '-f', 'json'], { cwd: d });
    const rows = JSON.parse(listed.stdout) as { deliveries: { sink: string; ackedAt: string | null; lastError: string }[] }[];
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.deliveries).toHaveLength(1);
      expect(row.deliveries[0]!.ackedAt).toBeNull();
      expect(row.deliveries[0]!.lastError).toMatch(/no JetStream stream captures subject/);
    }
  });

  it('Redis Streams: XADD once per trigger id, fields id/fingerprint/event; a re-send is not added again', async (ctx) => {
    needService(redisUp, 'Redis', REDIS_URL, () => ctx.skip());
    const key = `leakhound:test:${runTag()}`;
    redisKeys.push(key);
    const sink = `${REDIS_URL}?stream=${encodeURIComponent(key)}`;
    const d = project(3);
    const scan = await runCliAsync(['dir', 'src', '-q', '-o', 'r.json', '-f', 'json', '--state', 's.db', '--sink', sink], { cwd: d });
    expect(scan.code, scan.stderr).toBe(1);
    const entries = await readRedisStream(REDIS_URL, key);
    expect(entries).toHaveLength(3);
    for (const e of entries) {
      const event = JSON.parse(e.event) as { id: string; fingerprint: string };
      assertValidTrigger(event);
      expect(e.id).toBe(event.id);
      expect(e.fingerprint).toBe(event.fingerprint);
    }
    const retry = await runCliAsync(['triggers', 'retry', ...entries.map((e) => e.fingerprint), '--state', 's.db', '--sink', sink], { cwd: d });
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('3 triggers delivered (3 already there)');
    expect(await readRedisStream(REDIS_URL, key)).toHaveLength(3);
  });

  it('webhook: POST per trigger, HMAC-SHA256 over the body, retries 5xx and timeouts with backoff, 4xx keeps one trigger queued', async () => {
    const secret = `whsec-${runTag()}`;
    const rx = new WebhookReceiver(secret);
    const url = await rx.start();
    try {
      const d = project(4);
      writeFileSync(
        join(d, '.leakhound.yaml'),
        ['sinks:', '  - type: webhook', `    url: ${url}`, '    secret-env: TEST_HOOK_SECRET', '    timeout: 1000', '    retries: 3', '    backoff: 20', '    concurrency: 2', ''].join('\n'),
      );
      let rejected = '';
      rx.answer = (k, req) => {
        if (k === 1) return 'hang'; // times out, retried
        if (k === 2 || k === 3) return 503; // retried
        if (rejected === '' || rejected === req.id) {
          rejected = req.id; // one trigger the receiver refuses for good
          return 422;
        }
        return 200;
      };
      const r = await runCliAsync(['dir', 'src', '-c', '.leakhound.yaml', '-o', 'r.txt', '--state', 's.db'], { cwd: d, env: { TEST_HOOK_SECRET: secret } });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/webhook:127\.0\.0\.1:\d+\/hook: 3 triggers delivered, 1 failed/);
      expect(r.stderr).toMatch(/1 trigger still queued/);
      expect(rx.received).toHaveLength(3);
      for (const got of rx.received) {
        expect(got.signatureOk).toBe(true);
        const event = JSON.parse(got.body) as { id: string };
        assertValidTrigger(event);
        expect(got.id).toBe(event.id);
        expect(got.headers['idempotency-key']).toBe(event.id);
        expect(got.headers['content-type']).toBe('application/json');
      }
      expect(rx.received.map((x) => x.id)).not.toContain(rejected);

      // the receiver accepts it now: deliver sends only the one still queued
      rx.answer = () => 200;
      const again = await runCliAsync(['triggers', 'deliver', '--state', 's.db'], { cwd: d, env: { TEST_HOOK_SECRET: secret } });
      expect(again.code, again.stderr).toBe(0);
      expect(rx.received.map((x) => x.id).slice(3)).toEqual([rejected]);
      expect(new Set(rx.received.map((x) => x.id)).size).toBe(4);

      // a wrong secret is caught by the receiver's signature check
      const d2 = project(1);
      writeFileSync(join(d2, '.leakhound.yaml'), readFileSync(join(d, '.leakhound.yaml')));
      await runCliAsync(['dir', 'src', '-c', '.leakhound.yaml', '-q', '-o', 'r.txt', '--state', 's.db'], { cwd: d2, env: { TEST_HOOK_SECRET: 'not-the-secret' } });
      expect(rx.received.at(-1)!.signatureOk).toBe(false);
    } finally {
      await rx.stop();
    }
  });

  it('a sink that is down keeps its triggers queued while the others deliver; they go out once it is back', async (ctx) => {
    needService(redisUp, 'Redis', REDIS_URL, () => ctx.skip());
    const secret = `whsec-${runTag()}`;
    const port = await freePort();
    const deadNats = await freePort();
    const key = `leakhound:test:${runTag()}`;
    redisKeys.push(key);
    const d = project(5);
    writeFileSync(
      join(d, '.leakhound.yaml'),
      [
        'triggers:',
        '  state: .state/triggers.db',
        'sinks:',
        '  - type: webhook',
        `    url: http://127.0.0.1:${port}/hook`,
        '    secret-env: TEST_HOOK_SECRET',
        '    retries: 1',
        '    backoff: 10',
        '  - type: nats',
        `    url: nats://127.0.0.1:${deadNats}`,
        '    subject: never.delivered',
        '  - type: redis',
        `    url: ${REDIS_URL}`,
        `    stream: ${key}`,
        '  - type: jsonl',
        '    path: out/triggers.jsonl',
        '',
      ].join('\n'),
    );
    const env = { TEST_HOOK_SECRET: secret };
    const r = await runCliAsync(['dir', 'src', '-c', '.leakhound.yaml', '-o', 'r.txt'], { cwd: d, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`warning: sink webhook:127\\.0\\.0\\.1:${port}/hook is down \\(.*ECONNREFUSED.*\\); its triggers stay queued`));
    expect(r.stderr).toMatch(new RegExp(`warning: sink nats:never\\.delivered is down \\(cannot connect to nats://127\\.0\\.0\\.1:${deadNats}`));
    expect(r.stderr).toMatch(/redis:leakhound:test:\S+: 5 triggers delivered/);
    expect(jsonl(join(d, 'out', 'triggers.jsonl'))).toHaveLength(5);
    expect(await readRedisStream(REDIS_URL, key)).toHaveLength(5);
    const pending = JSON.parse((await runCliAsync(['triggers', 'list', '-f', 'json'], { cwd: d })).stdout) as unknown[];
    expect(pending).toHaveLength(5);

    // still down: exit 1, nothing lost
    const stillDown = await runCliAsync(['triggers', 'deliver'], { cwd: d, env });
    expect(stillDown.code).toBe(1);

    // webhook back (NATS sink removed from the config): everything leaves the outbox, nothing re-sent to the others
    const rx = new WebhookReceiver(secret);
    await rx.start(port);
    try {
      const yaml = readFileSync(join(d, '.leakhound.yaml'), 'utf8').replace(/ {2}- type: nats\n.*\n.*\n/, '');
      writeFileSync(join(d, '.leakhound.yaml'), yaml);
      const back = await runCliAsync(['triggers', 'deliver'], { cwd: d, env });
      expect(back.code, back.stderr + back.stdout).toBe(0);
      expect(back.stdout).toMatch(/webhook:127\.0\.0\.1:\d+\/hook: 5 triggers delivered\n/);
      expect(back.stdout).not.toMatch(/redis:|jsonl:/);
      expect(rx.received).toHaveLength(5);
      expect(rx.received.every((x) => x.signatureOk)).toBe(true);
    } finally {
      await rx.stop();
    }
    expect(jsonl(join(d, 'out', 'triggers.jsonl'))).toHaveLength(5);
    expect(await readRedisStream(REDIS_URL, key)).toHaveLength(5);
    expect(JSON.parse((await runCliAsync(['triggers', 'list', '-f', 'json'], { cwd: d })).stdout)).toEqual([]);
  });
});
