import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, tempDir } from './helpers/cli.js';
import { parseConfig } from '../src/config/config.js';
import { githubToken, randomString } from './helpers/secrets.js';
import { assertValidTrigger, runCliAsync } from './triggers-helpers.js';

interface Event {
  id: string;
  fingerprint: string;
  rule: { id: string };
  identity?: string;
  location: { source: string; target: string; path: string; line: number; commit?: string };
  locations: number;
  firstSeen: string;
  rotation?: { url?: string };
}

let root: string;
let cleanup: () => void;
beforeAll(() => ({ dir: root, cleanup } = tempDir('leakhound-triggers-')));
afterAll(() => cleanup());

let n = 0;
function fresh(): string {
  const d = join(root, `case${++n}`);
  mkdirSync(join(d, 'src'), { recursive: true });
  return d;
}

const lines = (file: string): Event[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Event)
    : [];

function db(file: string): Database.Database {
  return new Database(file, { readonly: true });
}

describe('rotation triggers: the store', () => {
  it('records findings across runs; a secret triggers once; every event matches the schema', () => {
    const d = fresh();
    const [a, b, c] = [githubToken(), githubToken('gho'), githubToken()];
    writeFileSync(join(d, 'src', 'one.env'), `A=${a}\nB=${b}\n`);
    writeFileSync(join(d, 'src', 'copy.env'), `AGAIN=${a}\n`);
    const out = join(d, 'triggers.jsonl');
    const state = join(d, 'state', 'store.db');
    const scan = () => runCli(['dir', join(d, 'src'), '-q', '-f', 'json', '--state', state, '--sink', `jsonl:${out}`], { cwd: d });

    const r1 = scan();
    expect(r1.code).toBe(1);
    const first = lines(out);
    expect(first).toHaveLength(2);
    first.forEach(assertValidTrigger);
    const ev = first.find((e) => e.rule.id === 'github-pat-classic')!;
    expect(ev.locations).toBe(2);
    expect(ev.identity).toBe('ghp');
    expect(ev.location).toMatchObject({ source: 'dir', path: 'copy.env', line: 1 });
    expect(ev.rotation?.url).toMatch(/^https:\/\/docs\.github\.com\//);
    const report = JSON.parse(r1.stdout) as { findings: { fingerprint: string }[] };
    expect(new Set(first.map((e) => e.fingerprint))).toEqual(new Set(report.findings.map((f) => f.fingerprint)));

    // seen again tomorrow: the same findings, no new trigger
    expect(scan().code).toBe(1);
    expect(lines(out)).toHaveLength(2);

    // a new secret triggers, only it
    writeFileSync(join(d, 'src', 'two.env'), `C=${c}\n`);
    expect(scan().code).toBe(1);
    const all = lines(out);
    expect(all).toHaveLength(3);
    assertValidTrigger(all[2]);
    expect(all[2]!.location.path).toBe('two.env');

    const store = db(state);
    const rows = store.prepare('SELECT fingerprint, status, times_seen, first_path, last_path, first_seen_at, last_seen_at, first_source FROM findings ORDER BY first_path').all() as {
      status: string;
      times_seen: number;
      first_seen_at: string;
      last_seen_at: string;
      first_source: string;
    }[];
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.status)).toEqual(['triggered', 'triggered', 'triggered']);
    expect(rows.map((r) => r.times_seen).sort()).toEqual([1, 3, 3]);
    for (const r of rows) expect(r.last_seen_at >= r.first_seen_at).toBe(true);
    expect((store.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(3);
    expect((store.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'delivered'").get() as { n: number }).n).toBe(3);
    expect(store.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
  });

  it('git history: the trigger names the repository and commit; the same secret found later by dir is the same finding', () => {
    const d = fresh();
    const repo = join(d, 'repo');
    const git = (...args: string[]): string => execFileSync('git', ['-C', repo, '-c', 'user.name=T', '-c', 'user.email=t@example.invalid', ...args], { encoding: 'utf8' }).trim();
    mkdirSync(repo);
    git('init', '-q');
    writeFileSync(join(repo, 'deploy.env'), `GH=${githubToken()}\n`);
    git('add', 'deploy.env');
    git('commit', '-qm', 'add deploy config');
    const sha = git('rev-parse', 'HEAD');
    expect(runCli(['git', repo, '-q', '-o', join(d, 'r.json'), '--state', 'st.db', '--sink', 'jsonl:t.jsonl'], { cwd: d }).code).toBe(1);
    const [ev] = lines(join(d, 't.jsonl'));
    assertValidTrigger(ev);
    expect(ev!.location).toMatchObject({ source: 'git', target: repo, path: 'deploy.env', line: 1, commit: sha });
    // the working tree still holds it: dir sees the same secret, no second trigger
    expect(runCli(['dir', repo, '-q', '--state', 'st.db', '--sink', 'jsonl:t.jsonl'], { cwd: d }).code).toBe(1);
    expect(lines(join(d, 't.jsonl'))).toHaveLength(1);
    const store = db(join(d, 'st.db'));
    expect(store.prepare('SELECT first_source, first_commit, last_source, last_commit, times_seen FROM findings').all()).toEqual([
      { first_source: 'git', first_commit: sha, last_source: 'dir', last_commit: null, times_seen: 2 },
    ]);
    store.close();
  });

  it('never stores a plaintext secret, even with --show-secrets', () => {
    const d = fresh();
    const tokens = [githubToken(), githubToken('ghs')];
    writeFileSync(join(d, 'src', 'a.txt'), tokens.map((t) => `token: ${t}`).join('\n') + '\n');
    const r = runCli(['dir', 'src', '--show-secrets', '-f', 'json', '--state', 'st/state.db', '--sink', 'jsonl:t.jsonl'], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(tokens[0]); // the report was asked to show it...
    const stored = [...readdirSync(join(d, 'st')).map((f) => join(d, 'st', f)), join(d, 't.jsonl')];
    for (const f of stored) {
      const bytes = readFileSync(f).toString('latin1');
      for (const t of tokens) {
        expect(bytes.includes(t), `${f} holds a secret`).toBe(false);
        expect(bytes.includes(t.slice(4, 24)), `${f} holds part of a secret`).toBe(false);
      }
    }
  });

  it('the config triggers section: store path, policy, sinks; findings below the policy are recorded but do not trigger', () => {
    const d = fresh();
    const low = `lowtok_${randomString(24)}`;
    writeFileSync(
      join(d, '.leakhound.yaml'),
      [
        'rules:',
        '  add:',
        '    - id: test-low-token',
        '      title: A low severity test token',
        '      provider: Test',
        "      pattern: '(lowtok_[A-Za-z0-9]{24})'",
        '      confidence: high',
        '      severity: low',
        "      examples: ['x = lowtok_Q8dk2LmPz0aXw9Vb3NcRt7Ye']",
        'triggers:',
        '  state: var/leakhound.db',
        '  min-severity: high',
        'sinks:',
        '  - type: jsonl',
        '    path: out/triggers.jsonl',
        '',
      ].join('\n'),
    );
    writeFileSync(join(d, 'src', 'x.env'), `LOW=${low}\nGH=${githubToken()}\n`);
    const r = runCli(['dir', '.', '-q', '-f', 'json'], { cwd: d });
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { findings: unknown[] }).findings).toHaveLength(2);
    const events = lines(join(d, 'out', 'triggers.jsonl'));
    expect(events.map((e) => e.rule.id)).toEqual(['github-pat-classic']);
    const store = db(join(d, 'var', 'leakhound.db'));
    const statuses = store.prepare('SELECT rule_id, status FROM findings ORDER BY rule_id').all();
    store.close();
    expect(statuses).toEqual([
      { rule_id: 'github-pat-classic', status: 'triggered' },
      { rule_id: 'test-low-token', status: 'open' },
    ]);
  });

  it('config errors name the file and line; bad flags are one line, exit 2, before any scan', () => {
    const d = fresh();
    writeFileSync(join(d, 'src', 'a.env'), `T=${githubToken()}\n`);
    const cases: [string, RegExp][] = [
      ['sinks:\n  - type: kafka\n    url: x\n', /\.leakhound\.yaml:2: 'sinks\.type' must be one of nats, redis, webhook, jsonl/],
      ['sinks:\n  - type: nats\n    url: nats://127.0.0.1:4222\n    subject: "a.*"\n', /\.leakhound\.yaml:4: 'a\.\*' is not a valid NATS subject/],
      ['sinks:\n  - type: redis\n    url: http://x\n    stream: s\n', /\.leakhound\.yaml:2: 'http:\/\/x\/': expected a redis:\/\/ or rediss:\/\/ URL/],
      ['triggers:\n  state: a.db\n  deliver: sometimes\n', /\.leakhound\.yaml:3: 'triggers\.deliver' must be true or false/],
      ['triggers:\n  min-severity: urgent\n', /\.leakhound\.yaml:2: 'triggers\.min-severity' must be one of low, medium, high, critical/],
      ['sinks:\n  - type: jsonl\n    path: a\n    colour: red\n', /\.leakhound\.yaml:4: unknown key 'colour' for a jsonl sink/],
      ['sinks:\n  - type: jsonl\n    path: a\n  - type: jsonl\n    path: a\n', /\.leakhound\.yaml:4: two sinks are named 'jsonl:a'/],
      ['sinks:\n  - type: webhook\n    url: https://example.com/h\n    secret-env: "s3cr3t value"\n', /\.leakhound\.yaml:4: 'secret-env' names an environment variable/],
    ];
    // every form through the parser; one of them end to end through the CLI
    for (const [yaml, re] of cases) expect(() => parseConfig(yaml, '.leakhound.yaml'), yaml).toThrow(re);
    writeFileSync(join(d, '.leakhound.yaml'), cases[0]![0]);
    const bad = runCli(['dir', '.'], { cwd: d });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^leakhound: error: \S*\.leakhound\.yaml:2: 'sinks\.type' must be one of nats, redis, webhook, jsonl\n$/);
    writeFileSync(join(d, '.leakhound.yaml'), '');
    const flagCases: [string[], RegExp][] = [
      [['--sink', 'kafka://x'], /--sink kafka:\/\/x: unsupported scheme 'kafka:'/],
      [['--sink', 'nats://127.0.0.1:4222?subject=a b'], /not a valid NATS subject/],
      [['--sink', 'jsonl:'], /name a file after jsonl:/],
      [['--sink', 'https://hooks.example.com/x'], /LEAKHOUND_WEBHOOK_SECRET/],
      [['--state', join(d, 'src', 'a.env', 'nope.db')], /cannot open state store .*nope\.db/],
    ];
    for (const [flags, re] of flagCases) {
      const r = runCli(['dir', '.', ...flags], { cwd: d, env: { LEAKHOUND_WEBHOOK_SECRET: '' } });
      expect(r.code, flags.join(' ') + r.stderr + r.stdout.slice(0, 300)).toBe(2);
      expect(r.stdout, flags.join(' ')).toBe('');
      expect(r.stderr.trim().split('\n'), flags.join(' ')).toHaveLength(1);
      expect(r.stderr, flags.join(' ')).toMatch(re);
    }
    // a file that is not a store
    writeFileSync(join(d, 'junk.db'), 'this is not a database, just text '.repeat(200));
    const junk = runCli(['dir', 'src', '--state', 'junk.db'], { cwd: d });
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/^leakhound: error: cannot use state store .*junk\.db: file is not a database\n$/);
  });

  it('concurrent scans writing one store: every finding once, each secret triggered once, audit chain intact', async () => {
    const d = fresh();
    const shared = githubToken();
    const own = [0, 1, 2, 3].map(() => githubToken());
    for (let i = 0; i < 4; i++) {
      mkdirSync(join(d, `repo${i}`));
      const extra = Array.from({ length: 50 }, () => `K=${githubToken()}`).join('\n');
      writeFileSync(join(d, `repo${i}`, 'cfg.env'), `S=${shared}\nO=${own[i]}\n${extra}\n`);
    }
    const runs = await Promise.all([0, 1, 2, 3].map((i) => runCliAsync(['dir', `repo${i}`, '-q', '-f', 'json', '-t', '1', '--state', 'shared.db', '--sink', 'jsonl:all.jsonl'], { cwd: d })));
    for (const r of runs) expect(r.code, r.stderr).toBe(1);
    const store = db(join(d, 'shared.db'));
    expect((store.prepare('SELECT count(*) AS n FROM findings').get() as { n: number }).n).toBe(1 + 4 + 200);
    expect((store.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n).toBe(205);
    expect((store.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(4);
    expect(store.prepare('SELECT times_seen FROM findings WHERE times_seen > 1').all()).toEqual([{ times_seen: 4 }]);
    store.close();
    const events = lines(join(d, 'all.jsonl'));
    expect(new Set(events.map((e) => e.id)).size).toBe(205);
    const v = runCli(['audit', 'verify', '--state', 'shared.db'], { cwd: d });
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/audit log intact/);
  });
});

describe('leakhound triggers list|ack|deliver|retry', () => {
  it('lists what is pending, ack marks rotated by fingerprint and cancels its trigger, a rotated secret never triggers again', () => {
    const d = fresh();
    const [a, b] = [githubToken(), githubToken()];
    writeFileSync(join(d, 'src', 'a.env'), `A=${a}\nB=${b}\n`);
    // a store but no sinks: triggers wait in the outbox
    expect(runCli(['dir', 'src', '-q', '--state', 's.db'], { cwd: d }).code).toBe(1);
    const list = runCli(['triggers', 'list', '--state', 's.db', '-f', 'json'], { cwd: d });
    expect(list.code).toBe(0);
    const pending = JSON.parse(list.stdout) as { id: string; fingerprint: string; state: string; event: unknown }[];
    expect(pending).toHaveLength(2);
    pending.forEach((p) => assertValidTrigger(p.event));
    expect(pending.every((p) => p.state === 'pending')).toBe(true);
    const text = runCli(['triggers', 'list', '--state', 's.db'], { cwd: d });
    expect(text.stdout).toContain(pending[0]!.id);
    expect(text.stdout).toMatch(/2 pending triggers\n$/);
    expect(text.stdout).not.toContain(a);

    const ack = runCli(['triggers', 'ack', pending[0]!.fingerprint.slice(0, 12), '--state', 's.db', '--note', 'rotated by ops'], { cwd: d });
    expect(ack.code, ack.stderr).toBe(0);
    expect(ack.stdout).toBe('1 finding marked rotated (1 queued trigger cancelled)\n');
    expect(JSON.parse(runCli(['triggers', 'list', '--state', 's.db', '-f', 'json'], { cwd: d }).stdout)).toHaveLength(1);
    const cancelled = JSON.parse(runCli(['triggers', 'list', '--state', 's.db', '-f', 'json', '--show', 'cancelled'], { cwd: d }).stdout) as { findingStatus: string }[];
    expect(cancelled.map((c) => c.findingStatus)).toEqual(['rotated']);

    // deliver: the rotated one is not sent, the other is; a re-scan triggers nothing new
    const deliver = runCli(['triggers', 'deliver', '--state', 's.db', '--sink', 'jsonl:out.jsonl'], { cwd: d });
    expect(deliver.code, deliver.stderr).toBe(0);
    expect(lines(join(d, 'out.jsonl')).map((e) => e.id)).toEqual([pending[1]!.id]);
    expect(runCli(['dir', 'src', '-q', '--state', 's.db', '--sink', 'jsonl:out.jsonl'], { cwd: d }).code).toBe(1);
    expect(lines(join(d, 'out.jsonl'))).toHaveLength(1);

    // ack by trigger id, as ignored
    expect(runCli(['triggers', 'ack', pending[1]!.id, '--status', 'ignored', '--state', 's.db'], { cwd: d }).stdout).toBe('1 finding marked ignored\n');
    const s = db(join(d, 's.db'));
    expect(s.prepare('SELECT status, note FROM findings ORDER BY status').all()).toEqual([
      { status: 'ignored', note: null },
      { status: 'rotated', note: 'rotated by ops' },
    ]);
    s.close();

    // retry by id re-sends to the sink (JSONL keeps duplicates: the consumer de-duplicates by id)
    const retry = runCli(['triggers', 'retry', pending[1]!.id, '--state', 's.db', '--sink', 'jsonl:out.jsonl'], { cwd: d });
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toMatch(/^1 trigger queued again for every sink\n/);
    expect(lines(join(d, 'out.jsonl')).map((e) => e.id)).toEqual([pending[1]!.id, pending[1]!.id]);

    // re-opened: the next scan queues its (cancelled) trigger again; a half-written last line (a killed
    // writer) is ended first, so the new trigger stands on its own line
    expect(runCli(['triggers', 'ack', pending[0]!.fingerprint, '--status', 'open', '--state', 's.db'], { cwd: d }).code).toBe(0);
    writeFileSync(join(d, 'out.jsonl'), readFileSync(join(d, 'out.jsonl'), 'utf8') + '{"half":');
    expect(runCli(['dir', 'src', '-q', '--state', 's.db', '--sink', 'jsonl:out.jsonl'], { cwd: d }).code).toBe(1);
    const tail = readFileSync(join(d, 'out.jsonl'), 'utf8').split('\n').slice(-3);
    expect(tail[0]).toBe('{"half":');
    expect((JSON.parse(tail[1]!) as Event).id).toBe(pending[0]!.id);
    expect(tail[2]).toBe('');
  });

  it('one delivery at a time: another waits for the holder, takes over from a dead or expired one', () => {
    const d = fresh();
    writeFileSync(join(d, 'src', 'a.env'), `A=${githubToken()}\nB=${githubToken()}\n`);
    expect(runCli(['dir', 'src', '-q', '--state', 's.db'], { cwd: d }).code).toBe(1);
    const holdLease = (pid: number, expires: number): void => {
      const s = new Database(join(d, 's.db'));
      s.prepare("INSERT INTO meta (key, value) VALUES ('delivery_lease', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
        JSON.stringify({ host: hostname(), pid, token: 'another-run', expires }),
      );
      s.close();
    };
    // a live holder (a process of this host that is still running): this run waits, then sends nothing
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      holdLease(holder.pid!, Date.now() + 60_000);
      const busy = runCli(['triggers', 'deliver', '--state', 's.db', '--sink', 'jsonl:out.jsonl', '--wait', '0.5'], { cwd: d });
      expect(busy.code, busy.stderr).toBe(1);
      expect(busy.stderr).toContain(`another delivery (process ${holder.pid} on ${hostname()}) holds the queue`);
      expect(existsSync(join(d, 'out.jsonl'))).toBe(false);
      // the same holder with its time run out: taken over
      holdLease(holder.pid!, Date.now() - 1);
      const expired = runCli(['triggers', 'deliver', '--state', 's.db', '--sink', 'jsonl:out.jsonl', '--wait', '0.5'], { cwd: d });
      expect(expired.code, expired.stderr).toBe(0);
      expect(lines(join(d, 'out.jsonl'))).toHaveLength(2);
    } finally {
      holder.kill();
    }
    // a holder that died (killed mid-delivery): taken over at once, and the lease is gone afterwards
    const ids = lines(join(d, 'out.jsonl')).map((e) => e.id);
    expect(runCli(['triggers', 'retry', ...ids, '--state', 's.db', '--no-deliver'], { cwd: d }).code).toBe(0);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    holdLease(Number(dead.stdout), Date.now() + 60_000);
    const t0 = Date.now();
    const takeover = runCli(['triggers', 'deliver', '--state', 's.db', '--sink', 'jsonl:out.jsonl', '--wait', '20'], { cwd: d });
    expect(takeover.code, takeover.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(lines(join(d, 'out.jsonl'))).toHaveLength(4);
    const s = db(join(d, 's.db'));
    expect(s.prepare("SELECT count(*) AS n FROM meta WHERE key = 'delivery_lease'").get()).toEqual({ n: 0 });
    s.close();
    expect(runCli(['triggers', 'deliver', '--state', 's.db', '--sink', 'jsonl:out.jsonl', '--wait', '-1'], { cwd: d }).code).toBe(2);
  });

  it('usage errors: no store, no sinks, unknown fingerprint: one line, exit 2', () => {
    const d = fresh();
    writeFileSync(join(d, 'src', 'a.env'), `A=${githubToken()}\n`);
    const none = runCli(['triggers', 'list', '--state', 'missing.db'], { cwd: d });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^leakhound: error: no state store at .*missing\.db/);
    expect(existsSync(join(d, 'missing.db'))).toBe(false);
    // the default location, .leakhound/state.db in the working directory
    expect(runCli(['dir', 'src', '-q', '--sink', 'jsonl:o.jsonl'], { cwd: d }).code).toBe(1);
    expect(existsSync(join(d, '.leakhound', 'state.db'))).toBe(true);
    const noSinks = runCli(['triggers', 'deliver'], { cwd: d });
    expect(noSinks.code).toBe(2);
    expect(noSinks.stderr).toMatch(/^leakhound: error: no sinks to deliver to: add a 'sinks' section/);
    for (const key of ['deadbeefdeadbeef', 'zz', '0000']) {
      const r = runCli(['triggers', 'ack', key], { cwd: d });
      expect(r.code, key).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const noAction = runCli(['triggers'], { cwd: d });
    expect(noAction.code).toBe(2);
    expect(noAction.stderr).toMatch(/name an action: list, deliver, retry, ack/);
  });
});
