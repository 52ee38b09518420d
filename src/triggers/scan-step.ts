import { relative } from 'node:path';
import type { Config } from '../config/config.js';
import type { Finding, RuleDefinition } from '../core/types.js';
import { deliver, type DeliverySummary } from './delivery.js';
import { triggersEnabled, type TriggerFlags } from './config.js';
import { setupTriggers, type TriggerSetup } from './setup.js';
import { Store, now } from './store.js';

export interface ScanInfo {
  source: string;
  baseDir: string;
  rules: ReadonlyMap<string, RuleDefinition>;
}

/**
 * The step every scan runs after its report: record the run and its findings in the store, queue a
 * rotation trigger for each new exposure, then deliver the outbox to the configured sinks.
 * Prepared before the scan so that a bad flag, config or store fails before any work is done.
 */
export class TriggerStep {
  private readonly startedAt = now();

  private constructor(
    private readonly setup: TriggerSetup,
    private readonly store: Store,
    private readonly quiet: boolean,
  ) {}

  static prepare(flags: TriggerFlags & { quiet: boolean }, config: Config): TriggerStep | undefined {
    if (!triggersEnabled(flags, config)) return undefined;
    const setup = setupTriggers(flags, config);
    return new TriggerStep(setup, Store.open(setup.statePath, { create: true }), flags.quiet);
  }

  /** Records and delivers; delivery problems are warnings (the triggers stay queued), never a failed scan. */
  async run(findings: Finding[], info: ScanInfo, warn: (m: string) => void): Promise<void> {
    try {
      const result = this.store.recordRun({
        source: info.source,
        baseDir: info.baseDir,
        startedAt: this.startedAt,
        findings,
        rules: info.rules,
        policy: { minSeverity: this.setup.config.minSeverity, minConfidence: this.setup.config.minConfidence },
      });
      const where = displayPath(this.store.file);
      this.note(
        `state ${where}: ${result.findings} ${plural(result.findings, 'finding')} recorded (${result.newFindings} new), ` +
          `${result.triggers.length} rotation ${plural(result.triggers.length, 'trigger')} queued`,
      );
      if (this.setup.sinks.length === 0 || !this.setup.config.deliver) return;
      const summary = await deliver(this.store, this.setup.sinks);
      reportDelivery(summary, (m) => this.note(m), warn);
    } finally {
      this.store.close();
    }
  }

  close(): void {
    this.store.close();
  }

  private note(message: string): void {
    if (!this.quiet) process.stderr.write(`leakhound: ${message}\n`);
  }
}

/** One line per sink that did something, a warning per sink that is down. */
export function reportDelivery(summary: DeliverySummary, info: (m: string) => void, warn: (m: string) => void): void {
  for (const s of summary.sinks) {
    if (s.delivered > 0 || s.failed > 0) {
      const dup = s.duplicates > 0 ? ` (${s.duplicates} already there)` : '';
      const failed = s.failed > 0 ? `, ${s.failed} failed` : '';
      info(`${s.name}: ${s.delivered} ${plural(s.delivered, 'trigger')} delivered${dup}${failed}`);
    }
    if (s.down !== undefined) warn(`sink ${s.name} is down (${s.down}); its triggers stay queued`);
  }
  if (summary.busy !== undefined) {
    warn(`another delivery (process ${summary.busy.pid} on ${summary.busy.host}) holds the queue; this run sent nothing, it sends what is queued`);
  }
  if (summary.pending > 0) info(`${summary.pending} ${plural(summary.pending, 'trigger')} still queued (leakhound triggers deliver retries them)`);
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') ? rel : p;
}
