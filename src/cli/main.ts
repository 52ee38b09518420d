import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors.js';
import { toolVersion } from '../version.js';
import { statsLine } from '../util/peak-memory.js';
import { EXIT_ERROR } from './output.js';
import type { CommandModule } from 'yargs';

/**
 * Each command's module loads only when it runs: a scan should not pay for the trigger queue's
 * clients or the image reader (about 60 ms of imports). `--help`, no command or an unknown one
 * loads them all, for the listing and the suggestions.
 */
const COMMANDS: Record<string, () => Promise<unknown>> = {
  dir: async () => (await import('./commands/dir.js')).dirCommand,
  rules: async () => (await import('./commands/rules.js')).rulesCommand,
  git: async () => (await import('./commands/git.js')).gitCommand,
  'install-hook': async () => (await import('./commands/install-hook.js')).installHookCommand,
  image: async () => (await import('./commands/image.js')).imageCommand,
  logs: async () => (await import('./commands/logs.js')).logsCommand,
  triggers: async () => (await import('./commands/triggers.js')).triggersCommand,
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  baseline: async () => (await import('./commands/baseline.js')).baselineCommand,
  action: async () => (await import('./commands/action.js')).actionCommand,
};

async function commandsFor(argv: string[]): Promise<CommandModule[]> {
  const first = argv[0];
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) && !argv.includes('--help') && !argv.includes('-h') ? [first] : Object.keys(COMMANDS);
  return (await Promise.all(names.map((n) => COMMANDS[n]!()))) as CommandModule[];
}

/** Prints one line and exits 2: bad flags, missing paths, bad config. Never a stack trace unless asked. */
function die(e: unknown): never {
  const debug = process.env['LEAKHOUND_DEBUG'] === '1';
  if (e instanceof UserError) process.stderr.write(`leakhound: error: ${e.message}\n`);
  else {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`leakhound: internal error: ${msg.split('\n')[0]}\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  }
  process.exit(EXIT_ERROR);
}

async function main(): Promise<void> {
  const argv = hideBin(process.argv);
  let cli = yargs(argv).scriptName('leakhound').usage('$0 <command> [options]');
  for (const command of await commandsFor(argv)) cli = cli.command(command);
  cli = cli
    .demandCommand(1, 'name a command: dir, git, image, logs, baseline, rules, triggers, audit, install-hook, action (see --help)')
    .strict()
    .recommendCommands()
    .version(toolVersion)
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."): keep one line
      throw err ?? new UserError(msg.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ') || 'invalid arguments');
    })
    .exitProcess(false);
  skipHelpCache(cli);
  await cli.parseAsync();
}

/**
 * yargs lays out the whole help text whenever a command starts, in case a later failure wants to
 * print it (about 25 ms on the main thread before a scan gets going). Our `fail` handler never
 * prints help, so that layout is skipped (yargs 18's internal usage object; `--help` is unaffected).
 */
function skipHelpCache(cli: object): void {
  const internal = (cli as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage !== undefined && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

process.on('unhandledRejection', die);
main().then(
  () => {
    // LEAKHOUND_STATS=1: peak memory of the whole process (all threads), for tests and the bench.
    if (process.env['LEAKHOUND_STATS'] === '1') process.stderr.write(statsLine());
    // Let stdout drain, then exit with the code the command chose.
    process.stdout.write('', () => process.exit(process.exitCode ?? 0));
  },
  die,
);
