import type { Argv } from 'yargs';
import { renderReport } from '../report/render.js';
import { summaryLine } from '../report/text.js';
import { REPORT_FORMATS, type Report, type ReportFormat } from '../report/types.js';
import { writeFileAtomic } from '../report/write.js';

/** Exit codes: the contract with hooks and CI. */
export const EXIT_CLEAN = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_ERROR = 2;

export interface OutputArgs {
  format: ReportFormat;
  output?: string;
  'show-secrets': boolean;
  quiet: boolean;
  config?: string;
  threads?: number;
  baseline?: string;
  'ignore-file'?: string;
  /** Rotation triggers: the state store (default .leakhound/state.db) and extra sinks. */
  state?: string;
  sink?: string[];
  /** Library callers (the GitHub Action): called with the final report after it is written. */
  onReport?: (report: Report) => void;
}

/** Flags shared by every scanning command. */
export function withScanFlags<T>(y: Argv<T>) {
  return y
    .option('format', { alias: 'f', choices: REPORT_FORMATS, default: 'text' as ReportFormat, describe: 'Report format' })
    .option('output', { alias: 'o', type: 'string', describe: 'Write the report to FILE (atomically) instead of stdout' })
    .option('show-secrets', { type: 'boolean', default: false, describe: 'Show secrets in text/JSON output (never in SARIF)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress line, warnings or summary on stderr' })
    .option('config', { alias: 'c', type: 'string', describe: 'Config file (default: .leakhound.yaml at the scan root)' })
    .option('threads', { alias: 't', type: 'number', describe: 'Scanning threads, the main thread included (default: available cores)' })
    .option('baseline', { type: 'string', describe: 'An earlier JSON report: its findings are known and neither reported nor failing' })
    .option('ignore-file', { type: 'string', describe: `Fingerprints to ignore, one per line (default: .leakhound-fingerprints at the scan root)` })
    .option('state', { type: 'string', describe: 'Record findings and queue rotation triggers in this store (default with a triggers config: .leakhound/state.db)' })
    .option('sink', { type: 'string', array: true, nargs: 1, describe: 'Deliver rotation triggers to nats://..., redis://..., https://... or jsonl:FILE (repeatable)' });
}

/** Renders and writes the report; returns the exit code (1 when anything was found). */
export function emitReport(report: Report, args: OutputArgs): number {
  const toTerminal = args.output === undefined && process.stdout.isTTY === true;
  const color = toTerminal && !process.env['NO_COLOR'];
  const text = renderReport(report, args.format, color);
  if (args.output !== undefined) {
    writeFileAtomic(args.output, text);
    if (!args.quiet) process.stderr.write(`${summaryLine(report)} Report written to ${args.output}.\n`);
  } else {
    process.stdout.write(text);
  }
  args.onReport?.(report);
  return report.findings.length > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
}
