import type { Readable } from 'node:stream';
import { GitProcess, gitSync, type GitTarget } from './exec.js';

/** A commit as the metadata pass sees it. The message body is never read, only its summary line. */
export interface CommitInfo {
  sha: string;
  /** Author date, ISO 8601. */
  date: string;
  author: string;
  email: string;
  summary: string;
  /** Position in the walk, oldest first: orders locations by when they entered history. */
  index: number;
}

/** One file version a commit adds: `path` now has blob `oid`. */
export type LogEntryHandler = (commit: CommitInfo, oid: string, path: string, mode: string) => void;

const FORMAT = '%x01%H%x00%aI%x00%an%x00%ae%x00%s';
const FIELDS = 5;

/**
 * Walks commits oldest first (`--date-order --reverse`) with the blobs each one adds (`--raw`, no
 * rename detection; `-c` so a merge shows content that is in none of its parents) and hands every
 * added blob to `onEntry`. One pass, no patches: git never computes a diff of contents, so no textconv
 * or external diff can be involved.
 */
export async function walkLog(target: GitTarget, revArgs: readonly string[], onEntry: LogEntryHandler): Promise<number> {
  const git = new GitProcess(target, [
    'log',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--no-renames',
    '--no-abbrev',
    '--no-notes',
    '--root',
    '--raw',
    '-c',
    '-z',
    '--date-order',
    '--reverse',
    `--format=${FORMAT}`,
    ...revArgs,
    '--',
  ]);
  git.stdin.end();
  const commits = await parseLog(git.stdout, onEntry);
  await git.done('git log failed');
  return commits;
}

async function parseLog(stream: Readable, onEntry: LogEntryHandler): Promise<number> {
  let rest = '';
  let fields: string[] | undefined;
  let commit: CommitInfo | undefined;
  let raw: string | undefined;
  let count = 0;
  const token = (t: string): void => {
    if (fields !== undefined) {
      fields.push(t);
      if (fields.length === FIELDS) {
        const [sha, date, author, email, summary] = fields as [string, string, string, string, string];
        commit = { sha: sha.slice(1), date, author, email, summary, index: count++ };
        fields = undefined;
      }
      return;
    }
    if (raw !== undefined) {
      entry(raw, t);
      raw = undefined;
      return;
    }
    const s = t.charCodeAt(0) === 0x0a ? t.slice(1) : t;
    if (s.charCodeAt(0) === 0x01) fields = [s];
    else if (s.charCodeAt(0) === 0x3a) raw = s;
  };
  const entry = (line: string, path: string): void => {
    if (commit === undefined) return;
    let parents = 0;
    while (line.charCodeAt(parents) === 0x3a) parents++;
    const f = line.slice(parents).split(' ');
    const mode = f[parents];
    const oid = f[2 * parents + 1];
    if (mode === undefined || oid === undefined) return;
    if (mode === '160000' || /^0+$/.test(oid)) return; // submodule commit, deletion
    onEntry(commit, oid, path, mode);
  };
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    const parts = (rest + chunk).split('\0');
    rest = parts.pop()!;
    for (const p of parts) token(p);
  }
  if (rest !== '') token(rest);
  return count;
}

/** Where one blob entered history, and how widely it spread. */
export interface BlobOrigin {
  commit: CommitInfo;
  path: string;
  /** Commits that add this blob (at any path). */
  commits: number;
  /** Distinct paths it was added at. */
  paths: number;
}

/** Starting points of the history walk: every ref, plus stash entries older than refs/stash. */
export function historyRevs(target: GitTarget): string[] {
  const revs = ['--all'];
  const r = gitSync(target, ['log', '-g', '--no-abbrev', '--format=%H', 'refs/stash', '--']);
  if (r.code === 0) revs.push(...new Set(r.stdout.toString('utf8').split('\n').filter((l) => l !== '')));
  return revs;
}

/** The metadata pass: for the blobs that had hits only, the commit that introduced each one. */
export async function blobOrigins(target: GitTarget, revs: readonly string[], oids: ReadonlySet<string>): Promise<Map<string, BlobOrigin>> {
  if (oids.size === 0) return new Map();
  return addedBlobs(target, revs, (oid) => oids.has(oid));
}

/**
 * Every blob the commits of `revs` add (those `wanted` accepts), with the oldest commit that adds it
 * and how many commits and paths carry it.
 */
export async function addedBlobs(target: GitTarget, revs: readonly string[], wanted: (oid: string) => boolean = () => true): Promise<Map<string, BlobOrigin>> {
  const found = new Map<string, BlobOrigin & { commitSet: Set<string>; pathSet: Set<string> }>();
  await walkLog(target, revs, (commit, oid, path) => {
    if (!wanted(oid)) return;
    let o = found.get(oid);
    if (o === undefined) {
      o = { commit, path, commits: 0, paths: 0, commitSet: new Set(), pathSet: new Set() };
      found.set(oid, o);
    }
    o.commitSet.add(commit.sha);
    o.pathSet.add(path);
  });
  const out = new Map<string, BlobOrigin>();
  for (const [oid, o] of found) out.set(oid, { commit: o.commit, path: o.path, commits: o.commitSet.size, paths: o.pathSet.size });
  return out;
}

/**
 * Blobs reachable from a ref without a commit adding them (a tag naming a tree or a blob): their path
 * in that tree, or '' for a blob tagged directly. Blobs not in the result are unreachable.
 */
export async function reachableWithoutCommit(target: GitTarget, oids: ReadonlySet<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (oids.size === 0) return out;
  const git = new GitProcess(target, ['rev-list', '--objects', '--all', '--']);
  git.stdin.end();
  git.stdout.setEncoding('utf8');
  let rest = '';
  const line = (l: string): void => {
    const sp = l.indexOf(' ');
    const oid = sp === -1 ? l : l.slice(0, sp);
    if (oids.has(oid) && !out.has(oid)) out.set(oid, sp === -1 ? '' : l.slice(sp + 1));
  };
  for await (const chunk of git.stdout as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const l of lines) line(l);
  }
  if (rest) line(rest);
  await git.done('git rev-list failed');
  return out;
}
