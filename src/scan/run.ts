import { emitReport, type OutputArgs } from '../cli/output.js';
import type { Finding } from '../core/types.js';
import { createContext, type ScanContext, type ScanOptions } from './context.js';
import type { TriggerStep } from '../triggers/scan-step.js';
import { triggersEnabled } from '../triggers/config.js';
import { loadBaseline, loadIgnoreFile } from '../findings/known.js';
import { loadBuiltinRulesCached } from '../rules/cache.js';
import { dropAllowedLocations } from '../findings/collect.js';

export interface RunSpec {
  /** Name of the source, written into reports ('dir', 'git', 'image', 'logs'). */
  source: string;
  /** Absolute directory report paths are relative to (SARIF %SRCROOT%); also where .leakhound.yaml is looked for. */
  baseDir: string;
  /** Scan on the main thread (tiny inputs where worker start-up dominates). */
  inline?: boolean;
  /** Extra scan options (fingerprints to ignore...). */
  options?: Partial<ScanOptions>;
  /** Feeds the source's items to the context (usually through scanItems). */
  produce(ctx: ScanContext): Promise<void>;
  /** Last look at findings before reporting: filter (baseline, range), reorder. */
  finalize?(findings: Finding[], ctx: ScanContext): Finding[] | Promise<Finding[]>;
  /** Called with the final findings after the report is written (rotation triggers...). */
  after?(findings: Finding[], ctx: ScanContext): void | Promise<void>;
}

/** The shape of every scanning command: set up, produce, report, exit code. */
export async function runScan(args: OutputArgs, spec: RunSpec): Promise<number> {
  const known = [
    ...loadIgnoreFile(args['ignore-file'], spec.baseDir),
    ...(args.baseline !== undefined ? loadBaseline(args.baseline) : []),
    ...(spec.options?.ignoredFingerprints ?? []),
  ];
  const ctx = createContext(
    {
      showSecrets: args['show-secrets'],
      quiet: args.quiet,
      ...(args.config !== undefined ? { config: args.config } : {}),
      ...(args.threads !== undefined ? { threads: args.threads } : {}),
      builtinRules: spec.options?.builtinRules ?? (await loadBuiltinRulesCached()),
      ...spec.options,
      ignoredFingerprints: known,
    },
    spec.baseDir,
    { inline: spec.inline ?? false },
  );
  let triggers: TriggerStep | undefined;
  try {
    // rotation triggers (store + sinks): checked before scanning so bad flags or config fail fast
    // the step loads SQLite and the sinks (about 10 ms): only scans that record triggers pay for it
    if (triggersEnabled(args, ctx.config)) triggers = (await import('../triggers/scan-step.js')).TriggerStep.prepare(args, ctx.config);
  } catch (e) {
    await ctx.scanner.close();
    throw e;
  }
  const started = Date.now();
  ctx.progress.start();
  try {
    await spec.produce(ctx);
  } finally {
    ctx.progress.stop();
    await ctx.scanner.close();
  }
  ctx.stats.durationMs = Date.now() - started;
  let findings = ctx.collector.findings();
  if (spec.finalize) findings = await spec.finalize(findings, ctx);
  findings = dropAllowedLocations(findings, ctx.allowedPath);
  const code = emitReport({ source: spec.source, baseDir: spec.baseDir, findings, rules: ctx.rulesById, stats: ctx.stats }, args);
  if (triggers) await triggers.run(findings, { source: spec.source, baseDir: spec.baseDir, rules: ctx.rulesById }, ctx.warn);
  if (spec.after) await spec.after(findings, ctx);
  return code;
}
