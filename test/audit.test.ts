import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';

let root: string;
let cleanup: () => void;
let head = '';
let entries = 0;

/** A store with scans, deliveries and a status change: the audit log has one entry per event. */
beforeAll(() => {
  ({ dir: root, cleanup } = tempDir('leakhound-audit-'));
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'a.env'), `A=${githubToken()}\n`);
  expect(runCli(['dir', 'src', '-q', '--state', 'good.db', '--sink', 'jsonl:t.jsonl'], { cwd: root }).code).toBe(1);
  writeFileSync(join(root, 'src', 'b.env'), `B=${githubToken()}\nC=${githubToken('gho')}\n`);
  expect(runCli(['dir', 'src', '-q', '--state', 'good.db', '--sink', 'jsonl:t.jsonl'], { cwd: root }).code).toBe(1);
  const fp = JSON.parse(runCli(['triggers', 'list', '--show', 'all', '-f', 'json', '--state', 'good.db'], { cwd: root }).stdout) as { fingerprint: string }[];
  expect(runCli(['triggers', 'ack', fp[0]!.fingerprint, '--state', 'good.db'], { cwd: root }).code).toBe(0);
});
afterAll(() => cleanup());

/** A copy of the good store to tamper with. */
function copy(name: string): string {
  const dst = join(root, name);
  copyFileSync(join(root, 'good.db'), dst);
  if (existsSync(join(root, 'good.db-wal'))) copyFileSync(join(root, 'good.db-wal'), dst + '-wal');
  return dst;
}

function tamper(name: string, sql: (db: Database.Database) => void): string {
  const file = copy(name);
  const db = new Database(file);
  sql(db);
  db.close();
  return file;
}

describe('leakhound audit verify', () => {
  it('every scan run, delivery and status change is in the chain; verify reports it intact', () => {
    const v = runCli(['audit', 'verify', '--state', 'good.db'], { cwd: root });
    expect(v.code, v.stderr).toBe(0);
    const m = /^good\.db: audit log intact: (\d+) entries, head ([0-9a-f]{64})\n$/.exec(v.stdout);
    expect(m, v.stdout).not.toBeNull();
    entries = Number(m![1]);
    head = m![2]!;
    const list = runCli(['audit', 'list', '--state', 'good.db', '-f', 'jsonl'], { cwd: root });
    const log = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; kind: string; data: Record<string, unknown>; prevHash: string; hash: string });
    expect(log.map((e) => e.kind)).toEqual(['scan', 'delivery', 'scan', 'delivery', 'status']);
    expect(log).toHaveLength(entries);
    expect(log[0]!.prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < log.length; i++) expect(log[i]!.prevHash).toBe(log[i - 1]!.hash);
    expect(log.at(-1)!.hash).toBe(head);
    expect(log[2]!.data).toMatchObject({ source: 'dir', findings: 3, newFindings: 2, triggers: 2 });
    expect((log[3]!.data['delivered'] as string[]).length).toBe(2);
    // the hash is reproducible from the documented formula
    const e = runCli(['audit', 'list', '--state', 'good.db', '-f', 'jsonl'], { cwd: root }).stdout.split('\n')[0]!;
    const first = JSON.parse(e) as { seq: number; at: string; kind: string; data: unknown; hash: string };
    const db = new Database(join(root, 'good.db'), { readonly: true });
    const raw = db.prepare('SELECT data FROM audit WHERE seq = 1').get() as { data: string };
    db.close();
    expect(createHash('sha256').update(`${'0'.repeat(64)}\n1\n${first.at}\nscan\n${raw.data}`).digest('hex')).toBe(first.hash);
    // text listing
    expect(runCli(['audit', 'list', '--state', 'good.db'], { cwd: root }).stdout).toMatch(/^#1 \S+ scan {5}dir .*: 1 findings, 1 new, 1 triggers {2}[0-9a-f]{16}\n/);
  });

  it('an edited entry is reported as the first tampered one, exit 1', () => {
    tamper('edited.db', (db) => db.prepare("UPDATE audit SET data = replace(data, '\"findings\":3', '\"findings\":0') WHERE seq = 3").run());
    const v = runCli(['audit', 'verify', '--state', 'edited.db'], { cwd: root });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^edited\.db: audit log tampered: first bad entry #3 \(scan, \S+\): its content does not match its hash/);
  });

  it('an entry rewritten with a fresh hash breaks the link of the next one', () => {
    tamper('rehashed.db', (db) => {
      const e = db.prepare('SELECT * FROM audit WHERE seq = 2').get() as { at: string; kind: string; data: string; prev_hash: string };
      const data = e.data.replace('"duplicates":0', '"duplicates":1');
      const hash = createHash('sha256').update(`${e.prev_hash}\n2\n${e.at}\n${e.kind}\n${data}`).digest('hex');
      db.prepare('UPDATE audit SET data = ?, hash = ? WHERE seq = 2').run(data, hash);
    });
    const v = runCli(['audit', 'verify', '--state', 'rehashed.db'], { cwd: root });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/first bad entry #3 \(scan, \S+\): it does not link to entry 2: entry 2 was rewritten/);
  });

  it('a removed entry is reported; a cut-off tail is caught with --head', () => {
    tamper('removed.db', (db) => db.prepare('DELETE FROM audit WHERE seq = 2').run());
    const v = runCli(['audit', 'verify', '--state', 'removed.db'], { cwd: root });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/first bad entry #3 \(scan, \S+\): entries 2\.\.2 are missing/);

    tamper('cut.db', (db) => db.prepare('DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)').run());
    expect(runCli(['audit', 'verify', '--state', 'cut.db'], { cwd: root }).code).toBe(0); // a shorter chain is still a chain...
    const withHead = runCli(['audit', 'verify', '--state', 'cut.db', '--head', head], { cwd: root });
    expect(withHead.code).toBe(1); // ...but not the one we saw
    expect(withHead.stdout).toMatch(/audit log tampered: head [0-9a-f]{64} is no longer in the log/);
    expect(runCli(['audit', 'verify', '--state', 'good.db', '--head', head], { cwd: root }).code).toBe(0);
  });

  it('bad input: no store, bad --head: one line, exit 2', () => {
    const none = runCli(['audit', 'verify', '--state', 'nope.db'], { cwd: root });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^leakhound: error: no state store at .*nope\.db/);
    const bad = runCli(['audit', 'verify', '--state', 'good.db', '--head', 'xyz'], { cwd: root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('leakhound: error: --head must be a 64-character hex hash\n');
  });
});
