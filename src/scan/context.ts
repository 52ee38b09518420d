import RE2 from 're2';
import picomatch from 'picomatch';
import type { Origin, RuleDefinition, ScanStats } from '../core/types.js';
import { emptyStats } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { applyRuleConfig, loadConfig, type Config } from '../config/config.js';
import { loadRuleDir } from '../rules/load.js';
import { compileRules, type CompiledRuleSet } from '../engine/compile.js';
import { FindingCollector } from '../findings/collect.js';
import { InlineScanner, WorkerPool, defaultThreads, type Scanner } from '../workers/pool.js';
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
  const compiled = compileRules(rules, { eager: (d) => config.file !== undefined && d.file === config.file });
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
  const scanner: Scanner = mode.inline ? new InlineScanner(compiled) : new WorkerPool(rules, threads);
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

/** Files handed to a worker per message; a tree of small files otherwise spends its time messaging. */
const FILE_BATCH = 32;

/**
 * Feeds source items to the scanner with bounded concurrency and records each result.
 * Consecutive file items travel in batches. Results may finish in any order; the collector
 * sorts at the end, so output is deterministic.
 */
export async function scanItems(ctx: ScanContext, items: AsyncIterable<SourceItem> | Iterable<SourceItem>, onResult?: (item: SourceItem, result: ScanResult) => void): Promise<void> {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  const settle = (): void => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const submit = async (task: ScanTask, done: (result: ScanResult) => void): Promise<void> => {
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
    while (inFlight >= ctx.scanner.capacity) await new Promise<void>((r) => (wake = r));
  };
  const deliver = (item: SourceItem, result: ScanResult): void => {
    record(ctx, item, result);
    onResult?.(item, result);
  };
  let batch: SourceItem[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    if (items.length === 1) return submit(items[0]!.task, (r) => deliver(items[0]!, r));
    const absPaths = items.map((i) => (i.task as { absPath: string }).absPath);
    return submit({ kind: 'files', absPaths }, (r) => r.batch!.forEach((sub, k) => deliver(items[k]!, sub)));
  };
  for await (const item of items) {
    if (failure !== undefined) break;
    if (item.task.kind === 'file') {
      batch.push(item);
      if (batch.length >= FILE_BATCH) await flush();
      continue;
    }
    await flush();
    await submit(item.task, (r) => deliver(item, r));
  }
  if (failure === undefined) await flush();
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  if (failure !== undefined) throw failure;
}

function record(ctx: ScanContext, item: SourceItem, result: ScanResult): void {
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
