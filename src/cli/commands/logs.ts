import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Argv } from 'yargs';
import type { Finding } from '../../core/types.js';
import { createContext } from '../../scan/context.js';
import { runScan } from '../../scan/run.js';
import { checkLogArgs, displayPath, produceLogs, STDIN_PATH } from '../../sources/logs/scan.js';
import { maskStream } from '../../sources/logs/mask.js';
import { renderReport } from '../../report/render.js';
import { writeFileAtomic } from '../../report/write.js';
import { EXIT_CLEAN, withScanFlags, type OutputArgs } from '../output.js';
import { UserError } from '../../core/errors.js';
import { loadBuiltinRulesCached } from '../../rules/cache.js';

interface LogsArgs extends OutputArgs {
  files: string[];
  mask: boolean;
}

export const logsCommand = {
  command: 'logs [files..]',
  describe: 'Scan build logs (files, a zip of job logs, or standard input); --mask filters secrets out of a live log',
  builder: (y: Argv) =>
    withScanFlags(y)
      .positional('files', { type: 'string', array: true, default: [] as string[], describe: "Log files or GitHub Actions log zips; '-' or none: standard input" })
      .option('mask', {
        type: 'boolean',
        default: false,
        describe: 'Copy the input to stdout with every secret replaced by ***, line by line; summary on stderr (report only with --output)',
      }),
  handler: async (args: LogsArgs): Promise<void> => {
    process.exitCode = args.mask ? await runMask(args) : await runLogs(args);
  },
};

export async function runLogs(args: LogsArgs): Promise<number> {
  checkLogArgs(args.files);
  const cwd = process.cwd();
  return runScan(args, {
    source: 'logs',
    baseDir: cwd,
    produce: (ctx) => produceLogs(ctx, args.files, cwd),
  });
}

/**
 * The pass-through filter. Exit 0 even when something was masked: the filter's job is to keep the
 * build going with a clean log; the summary on stderr (and --output) says what was masked.
 */
export async function runMask(args: LogsArgs): Promise<number> {
  checkLogArgs(args.files);
  if (args['show-secrets']) throw new UserError('--mask never shows secrets; drop --show-secrets');
  const cwd = process.cwd();
  // the cached rule pack, as every other scan: parsing the packs and analysing the patterns took 0.8 s
  const builtinRules = await loadBuiltinRulesCached();
  const ctx = createContext({ showSecrets: false, quiet: args.quiet, builtinRules, ...(args.config !== undefined ? { config: args.config } : {}) }, cwd, { inline: true });
  const started = Date.now();
  // a reader that has gone away (| head) ends the filter quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_CLEAN);
  });
  const files = args.files.length === 0 ? ['-'] : args.files;
  for (const f of files) {
    const path = f === '-' ? STDIN_PATH : displayPath(f, cwd);
    const input: Readable = f === '-' ? process.stdin : createReadStream(f);
    await maskStream(ctx.compiled, input, process.stdout, {
      onHits: (hits) => {
        ctx.collector.add({ path }, hits);
      },
    });
    ctx.stats.filesScanned++;
  }
  ctx.stats.durationMs = Date.now() - started;
  await ctx.scanner.close();
  const findings = ctx.collector.findings();
  if (!args.quiet) process.stderr.write(maskSummary(findings));
  if (args.output !== undefined) {
    writeFileAtomic(args.output, renderReport({ source: 'logs', baseDir: cwd, findings, rules: ctx.rulesById, stats: ctx.stats }, args.format, false));
  }
  return EXIT_CLEAN;
}

/** What was masked: per rule, how many secrets and occurrences, with redacted previews. Never a secret. */
export function maskSummary(findings: Finding[]): string {
  if (findings.length === 0) return 'leakhound: masked nothing\n';
  const byRule = new Map<string, Finding[]>();
  for (const f of findings) byRule.set(f.ruleId, [...(byRule.get(f.ruleId) ?? []), f]);
  const occurrences = findings.reduce((n, f) => n + f.locations.length, 0);
  const lines = [`leakhound: masked ${occurrences} occurrence${occurrences === 1 ? '' : 's'} of ${findings.length} secret${findings.length === 1 ? '' : 's'}:`];
  for (const [rule, fs] of [...byRule].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const n = fs.reduce((k, f) => k + f.locations.length, 0);
    const where = fs.flatMap((f) => f.locations.map((l) => `${l.path}:${l.line}`)).slice(0, 5);
    lines.push(`  ${rule}: ${fs.length} secret${fs.length === 1 ? '' : 's'}, ${n} occurrence${n === 1 ? '' : 's'} (${fs.map((f) => f.redacted).join(', ')}) at ${where.join(', ')}${n > 5 ? ', …' : ''}`);
  }
  return lines.join('\n') + '\n';
}
