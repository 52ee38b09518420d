import RE2 from 're2';
import picomatch from 'picomatch';
import type { Origin, RuleDefinition, ScanStats } from '../core/types.js';
import { emptyStats } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { applyRuleConfig, loadConfig, type Config } from '../config/config.js';
import { loadRuleDir } from '../rules/load.js';
import { hyperscanDiskStore } from '../rules/cache.js';
import { compileRules, type CompiledRuleSet } from '../engine/compile.js';
import { FindingCollector } from '../findings/collect.js';
import { AdaptiveScanner, InlineScanner, defaultThreads, type Scanner } from '../workers/pool.js';
import type { ScanResult, ScanTask } from '../workers/task.js';
import { Progress, progressWanted } from './progress.js';

/** Options every scanning command shares. */
export interface ScanOptions {
  config?: string;
  threads?: number;
  showSecrets: boolean;
  quiet: boolean;
  /** Extra fingerprints to ignore (ignore file, baseline). */
  ignoredFingerprints?: Iterable<string>;
  /** The built-in rules when the caller already has them (a parse cache); default: loadRuleDir(). */
  builtinRules?: RuleDefinition[];
}

export type Warn = (message: string) => void;

/** What a scan needs from start to report: rules, config, where hits go, who scans. */
export interface ScanContext {
  config: Config;
  rules: RuleDefinition[];
  rulesById: Map<string, RuleDefinition>;
  compiled: CompiledRuleSet;
  collector: FindingCollector;
  stats: ScanStats;
  scanner: Scanner;
  progress: Progress;
  warn: Warn;
  warnings: number;
  /** `allow.paths` of the config as a matcher, when it has any. */
  allowedPath: ((path: string) => boolean) | undefined;
}

export function stderrWarn(quiet: boolean): Warn {
  return (message: string) => {
    if (!quiet) process.stderr.write(`leakhound: warning: ${message}\n`);
  };
}

/**
 * Loads config and rules and starts the scanner. `inline` scans on the main thread: for a handful
 * of small inputs, worker start-up would cost more than the scan.
 */
export function createContext(options: ScanOptions, configRoot: string, mode: { inline?: boolean } = {}): ScanContext {
  const config = loadConfig(options.config, configRoot);
  const rules = applyRuleConfig(options.builtinRules ?? loadRuleDir(), config);
  // rules from the user's config compile at once, so a bad pattern is reported before any scanning
  const compiled = compileRules(rules, { eager: (d) => config.file !== undefined && d.file === config.file, hyperscanStore: hyperscanDiskStore() });
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  const allowRegexes = config.allowRegexes.map((r) => new RE2(r));
  const ignored = new Set([...config.allowFingerprints, ...(options.ignoredFingerprints ?? [])]);
  const allowedPath = config.allowPaths.length > 0 ? picomatch(config.allowPaths, { dot: true }) : undefined;
  const collector = new FindingCollector(rulesById, {
    showSecrets: options.showSecrets,
    allowRegexes,
    ignoredFingerprints: ignored,
    ...(allowedPath ? { allowedPath: (p: string) => allowedPath(p) } : {}),
  });
  const allowedPathFn = allowedPath ? (p: string) => allowedPath(p) : undefined;
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new UserError(`--threads must be an integer from 1 to 256, got ${String(options.threads)}`);
  const scanner: Scanner = mode.inline ? new InlineScanner(compiled) : new AdaptiveScanner(compiled, rules, threads);
  const stats = emptyStats();
  const ctx: ScanContext = {
    config,
    rules,
    rulesById,
    compiled,
    collector,
    stats,
    scanner,
    progress: new Progress(progressWanted(options.quiet), stats, () => collector.count),
    warn: () => undefined,
    warnings: 0,
    allowedPath: allowedPathFn,
  };
  const base = stderrWarn(options.quiet);
  ctx.warn = (m) => {
    ctx.warnings++;
    base(m);
  };
  return ctx;
}

/** A unit of work from a source: what to scan and where it came from. */
export interface SourceItem {
  task: ScanTask;
  origin: Origin;
}

/** Inputs handed to a worker per message; a tree of small files otherwise spends its time messaging. */
const BATCH_ITEMS = 32;
/** In-memory inputs up to this size travel in batches, and a batch up to this many bytes. */
const BATCH_BYTES = 1 << 20;

/**
 * Feeds source items to the scanner with bounded concurrency and records each result.
 * Small items travel in batches; a partial batch is sent as soon as the source pauses (a source
 * waiting for memory to be released must never wait on items held back here). Results may finish
 * in any order; the collector sorts at the end, so output is deterministic.
 */
export async function scanItems(ctx: ScanContext, items: AsyncIterable<SourceItem> | Iterable<SourceItem>, onResult?: (item: SourceItem, result: ScanResult) => void): Promise<void> {
  let inFlight = 0;
  const waiters: (() => void)[] = [];
  let failure: unknown;
  const settle = (): void => {
    inFlight--;
    for (const w of waiters.splice(0)) w();
  };
  const send = (task: ScanTask, done: (result: ScanResult) => void): void => {
    inFlight++;
    ctx.scanner.scan(task).then(
      (result) => {
        try {
          done(result);
        } catch (e) {
          failure ??= e;
        }
        settle();
      },
      (e: unknown) => {
        failure ??= e;
        settle();
      },
    );
  };
  const room = async (limit: number): Promise<void> => {
    while (inFlight > limit) await new Promise<void>((r) => waiters.push(r));
  };
  const deliver = (item: SourceItem, result: ScanResult): void => {
    record(ctx, item, result);
    onResult?.(item, result);
  };
  let files: SourceItem[] = [];
  let blobs: SourceItem[] = [];
  let blobBytes = 0;
  let timer: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (timer) clearImmediate(timer);
    timer = undefined;
    if (files.length > 0) {
      const batch = files;
      files = [];
      if (batch.length === 1) send(batch[0]!.task, (r) => deliver(batch[0]!, r));
      else send({ kind: 'files', absPaths: batch.map((i) => (i.task as { absPath: string }).absPath) }, (r) => r.batch!.forEach((sub, k) => deliver(batch[k]!, sub)));
    }
    if (blobs.length > 0) {
      const batch = blobs;
      blobs = [];
      blobBytes = 0;
      if (batch.length === 1) send(batch[0]!.task, (r) => deliver(batch[0]!, r));
      else send({ kind: 'blobs', data: batch.map((i) => (i.task as { data: Uint8Array }).data) }, (r) => r.batch!.forEach((sub, k) => deliver(batch[k]!, sub)));
    }
  };
  const accept = (item: SourceItem): void => {
    const task = item.task;
    if (task.kind === 'file') files.push(item);
    else if (task.kind === 'bytes' && task.data.byteLength <= BATCH_BYTES) {
      blobs.push(item);
      blobBytes += task.data.byteLength;
    } else {
      flush();
      send(task, (r) => deliver(item, r));
    }
    if (files.length >= BATCH_ITEMS || blobs.length >= BATCH_ITEMS || blobBytes >= BATCH_BYTES) flush();
    // whatever is still held goes out when the source next pauses
    else if ((files.length > 0 || blobs.length > 0) && timer === undefined) timer = setImmediate(flush);
  };
  const limit = ctx.scanner.capacity - 1;
  if (Symbol.iterator in items) {
    // a synchronous source (the directory walk) waits only when the workers are full, and lets the
    // workers' results in when this thread has been scanning too
    for (const item of items) {
      if (failure !== undefined) break;
      accept(item);
      if (inFlight > limit) await room(limit);
      else if (ctx.scanner.needsEventLoop?.()) await new Promise<void>((r) => setImmediate(r));
    }
  } else {
    for await (const item of items) {
      if (failure !== undefined) break;
      accept(item);
      if (inFlight > limit) await room(limit);
    }
  }
  flush();
  await room(0);
  if (failure !== undefined) throw failure;
}

function record(ctx: ScanContext, item: SourceItem, result: ScanResult): void {
  ctx.progress.tick();
  switch (result.status) {
    case 'ok':
      ctx.stats.filesScanned++;
      ctx.stats.bytesScanned += result.bytes;
      if (result.hits.length > 0) ctx.collector.add(item.origin, result.hits);
      break;
    case 'binary':
      ctx.stats.skippedBinary++;
      break;
    case 'unreadable':
      ctx.stats.skippedUnreadable++;
      ctx.warn(`cannot read ${item.origin.path} (${result.error ?? 'error'}), skipped`);
      break;
    case 'not-a-file':
      break;
  }
}
