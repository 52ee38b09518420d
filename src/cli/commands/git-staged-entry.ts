/**
 * The pre-commit fast path: `leakhound git --staged` is started by git on every commit, so it skips
 * the full CLI (yargs and every other command's imports) when its arguments are simple. Anything this
 * parser does not know (help, unknown flags) goes to the full CLI, which validates and explains.
 */
import { UserError } from '../../core/errors.js';
import type { ReportFormat } from '../../report/types.js';
import type { OutputArgs } from '../output.js';

const FORMATS = ['text', 'json', 'jsonl', 'sarif'];

/** The shared output flags this fast path understands, plus git's own. */
interface FastArgs extends Pick<OutputArgs, 'format' | 'output' | 'show-secrets' | 'quiet' | 'config' | 'threads'> {
  repo?: string;
  staged: true;
  incremental: false;
}

/** Parses `git --staged ...` (argv after 'git'); undefined when the full CLI should handle it. */
export function parseFast(argv: readonly string[]): FastArgs | undefined {
  const a: FastArgs = { format: 'text', 'show-secrets': false, quiet: false, staged: true, incremental: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const takeValue = (): string | undefined => value ?? argv[++i];
    switch (arg) {
      case '--staged':
        if (value !== undefined) return undefined;
        break;
      case '--show-secrets':
        if (value !== undefined) return undefined;
        a['show-secrets'] = true;
        break;
      case '-q':
      case '--quiet':
        if (value !== undefined) return undefined;
        a.quiet = true;
        break;
      case '-f':
      case '--format': {
        const v = takeValue();
        if (v === undefined || !FORMATS.includes(v)) return undefined;
        a.format = v as ReportFormat;
        break;
      }
      case '-o':
      case '--output': {
        const v = takeValue();
        if (v === undefined || v.startsWith('-')) return undefined;
        a.output = v;
        break;
      }
      case '-c':
      case '--config': {
        const v = takeValue();
        if (v === undefined || v.startsWith('-')) return undefined;
        a.config = v;
        break;
      }
      case '-t':
      case '--threads': {
        const v = takeValue();
        if (v === undefined || !/^\d+$/.test(v)) return undefined;
        a.threads = Number(v);
        break;
      }
      default:
        if (arg.startsWith('-') || a.repo !== undefined) return undefined;
        a.repo = arg;
    }
  }
  return a;
}

function die(e: unknown): never {
  if (e instanceof UserError) process.stderr.write(`leakhound: error: ${e.message}\n`);
  else {
    process.stderr.write(`leakhound: internal error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    if (process.env['LEAKHOUND_DEBUG'] === '1' && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  }
  process.exit(2);
}

/** Runs the staged scan and exits; returns false (without doing anything) when the full CLI should run. */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const args = parseFast(argv);
  if (args === undefined) return false;
  process.on('unhandledRejection', die);
  try {
    const { runGit } = await import('./git.js');
    process.exitCode = await runGit(args);
  } catch (e) {
    die(e);
  }
  if (process.env['LEAKHOUND_STATS'] === '1') process.stderr.write((await import('../../util/peak-memory.js')).statsLine());
  process.stdout.write('', () => process.exit(process.exitCode ?? 0));
  return true;
}
