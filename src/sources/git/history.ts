import { rmSync } from 'node:fs';
import type { Finding, Location } from '../../core/types.js';
import { compareLocations } from '../../findings/collect.js';
import type { SourceItem } from '../../scan/context.js';
import { BatchParser, parseBatch } from './catfile.js';
import { GitProcess } from './exec.js';
import { blobOrigins, reachableWithoutCommit, type BlobOrigin } from './meta.js';
import type { Repo } from './repo.js';
import type { ScannedSet } from './state.js';

/** Blobs larger than this are spilled to a private temporary file and scanned in windows from disk. */
export const LARGE_BLOB = 64 * 1024 * 1024;
/** Blob bytes handed to workers and not yet scanned; with one large blob at a time, memory stays bounded. */
export const IN_FLIGHT_BYTES = 192 * 1024 * 1024;

/** Facts the history reader gathers for the summary and the state file. */
export interface HistoryRead {
  blobs: number;
  skippedKnown: number;
  /** Ids of blobs scanned this run (for the state file); filled only when asked. */
  scanned: string[] | undefined;
}

/** Waits until in-flight bytes drop below the budget; one oversized item may pass alone. */
class ByteBudget {
  private used = 0;
  private waiter: (() => void) | undefined;
  constructor(private readonly limit: number) {}
  async acquire(n: number): Promise<void> {
    while (this.used > 0 && this.used + n > this.limit) {
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    this.used += n;
  }
  release(n: number): void {
    this.used -= n;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/**
 * Every blob in the object database, each once: `git cat-file --batch-all-objects --unordered
 * --batch-check` lists objects in pack order (cheap: headers only); blobs not already in the state
 * set are fed to a second `git cat-file --batch`, whose stream is parsed here and handed out as
 * transferable byte tasks. The consumer pulls, so git waits while the workers are busy, and the bytes
 * handed out but not yet scanned stay under IN_FLIGHT_BYTES.
 */
export class HistoryReader {
  readonly read: HistoryRead;
  private readonly budget = new ByteBudget(IN_FLIGHT_BYTES);
  private readonly sizes = new WeakMap<SourceItem, number>();
  private readonly parser = new BatchParser((type, size) => (type !== 'blob' ? 'skip' : size > LARGE_BLOB ? 'file' : 'keep'));

  /**
   * `oids`: read exactly these blobs (a commit range); otherwise every blob in the object database,
   * less those in `known`.
   */
  constructor(
    private readonly repo: Repo,
    private readonly known: ScannedSet | undefined,
    recordScanned: boolean,
    private readonly oids?: readonly string[],
  ) {
    this.read = { blobs: 0, skippedKnown: 0, scanned: recordScanned ? [] : undefined };
  }

  /** Call with every item once its scan finished: frees its share of the byte budget and its spill file. */
  done(item: SourceItem): void {
    this.budget.release(this.sizes.get(item) ?? 0);
    if (item.task.kind === 'file') rmSync(item.task.absPath, { force: true });
  }

  /** Removes the spill directory; call after every item is done. */
  cleanup(): void {
    this.parser.cleanup();
  }

  async *items(): AsyncGenerator<SourceItem> {
    const read = this.read;
    const known = this.known;
    const reader = new GitProcess(this.repo.target, ['cat-file', '--batch', '--buffer']);
    if (this.oids !== undefined) {
      read.blobs = this.oids.length;
      reader.stdin.end(this.oids.map((o) => o + '\n').join(''));
      yield* this.parse(reader, Promise.resolve(), () => undefined);
      return;
    }
    const lister = new GitProcess(this.repo.target, [
      'cat-file',
      '--batch-all-objects',
      '--unordered',
      '--batch-check=%(objectname) %(objecttype) %(objectsize)',
    ]);
    lister.stdin.end();
    // Feed the reader while we parse its output: the two run concurrently.
    const feeding = (async () => {
      lister.stdout.setEncoding('utf8');
      let rest = '';
      let batch = '';
      const flush = async (): Promise<void> => {
        if (batch === '') return;
        const ok = reader.stdin.write(batch);
        batch = '';
        if (!ok) await new Promise<void>((resolve) => reader.stdin.once('drain', resolve));
      };
      for await (const chunk of lister.stdout as AsyncIterable<string>) {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const l of lines) {
          const sp1 = l.indexOf(' ');
          const sp2 = l.lastIndexOf(' ');
          if (l.slice(sp1 + 1, sp2) !== 'blob' || l.endsWith(' 0')) continue; // not a blob, or empty
          const oid = l.slice(0, sp1);
          read.blobs++;
          if (known !== undefined && known.has(oid)) {
            read.skippedKnown++;
            continue;
          }
          batch += oid + '\n';
        }
        if (batch.length > 16384) await flush();
      }
      await flush();
      reader.stdin.end();
      await lister.done('git cat-file --batch-all-objects failed');
    })();
    try {
      yield* this.parse(reader, feeding, () => lister.kill());
    } finally {
      lister.kill();
    }
  }

  private async *parse(reader: GitProcess, feeding: Promise<void>, stop: () => void): AsyncGenerator<SourceItem> {
    let feedError: unknown;
    feeding.catch((e: unknown) => {
      feedError = e;
      reader.kill();
    });
    try {
      for await (const o of parseBatch(reader.stdout, this.parser)) {
        if (o.missing || o.type !== 'blob') continue;
        this.read.scanned?.push(o.name);
        const origin = { path: o.name, properties: { blob: o.name } };
        const item: SourceItem =
          o.file !== undefined
            ? { task: { kind: 'file', absPath: o.file }, origin }
            : { task: { kind: 'bytes', data: o.data! }, origin };
        const size = o.file !== undefined ? LARGE_BLOB : o.size;
        this.sizes.set(item, size);
        await this.budget.acquire(size);
        yield item;
      }
      await feeding;
      await reader.done('git cat-file --batch failed');
    } catch (e) {
      throw feedError ?? e;
    } finally {
      stop();
      reader.kill();
    }
    if (feedError !== undefined) throw feedError;
  }
}

/**
 * The metadata pass, run after scanning and only for blobs with hits: each location moves from the
 * blob id to the path where that blob entered history, with the commit that added it. Locations are
 * then ordered by that commit, so a finding's first location is where the secret first appeared.
 */
export async function attributeFindings(repo: Repo, revs: readonly string[], findings: Finding[]): Promise<Finding[]> {
  const oids = new Set<string>();
  for (const f of findings) for (const l of f.locations) if (typeof l.properties?.['blob'] === 'string') oids.add(l.properties['blob']);
  if (oids.size === 0) return findings;
  const origins = await blobOrigins(repo.target, revs, oids);
  const rest = new Set([...oids].filter((o) => !origins.has(o)));
  const tagged = await reachableWithoutCommit(repo.target, rest);
  return relocateFindings(findings, origins, tagged);
}

/** Moves every blob location to where the blob entered history (see attributeFindings). */
export function relocateFindings(findings: Finding[], origins: Map<string, BlobOrigin>, tagged: Map<string, string> = new Map()): Finding[] {
  for (const f of findings) {
    f.locations = f.locations.map((l) => relocate(l, origins, tagged));
    f.locations.sort(compareLocations);
  }
  return sortFindings(findings);
}

const UNREACHABLE_RANK = 2 ** 40;

function relocate(l: Location, origins: Map<string, BlobOrigin>, tagged: Map<string, string>): Location {
  const blob = l.properties?.['blob'];
  if (typeof blob !== 'string') return l;
  const o = origins.get(blob);
  if (o !== undefined) {
    return {
      ...l,
      path: o.path,
      properties: {
        commit: o.commit.sha,
        author: o.commit.author,
        email: o.commit.email,
        date: o.commit.date,
        summary: o.commit.summary,
        blob,
        otherCommits: o.commits - 1,
        otherPaths: o.paths - 1,
      },
      rank: o.commit.index,
    };
  }
  const path = tagged.get(blob);
  if (path !== undefined) return { ...l, path: path || blob, properties: { blob, taggedOnly: true }, rank: UNREACHABLE_RANK - 1 };
  return { ...l, path: blob, properties: { blob, unreachable: true }, rank: UNREACHABLE_RANK };
}

export function sortFindings(findings: Finding[]): Finding[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return findings.sort(
    (a, b) => compareLocations(a.locations[0]!, b.locations[0]!) || cmp(a.ruleId, b.ruleId) || cmp(a.fingerprint, b.fingerprint),
  );
}
