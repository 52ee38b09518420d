import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors.js';
import { toolVersion } from '../version.js';
import { statsLine } from '../util/peak-memory.js';
import { EXIT_ERROR } from './output.js';
import { dirCommand } from './commands/dir.js';
import { rulesCommand } from './commands/rules.js';
import { gitCommand } from './commands/git.js';
import { installHookCommand } from './commands/install-hook.js';
import { imageCommand } from './commands/image.js';
import { logsCommand } from './commands/logs.js';
import { triggersCommand } from './commands/triggers.js';
import { auditCommand } from './commands/audit.js';
import { baselineCommand } from './commands/baseline.js';
import { actionCommand } from './commands/action.js';

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
  const cli = yargs(hideBin(process.argv))
    .scriptName('leakhound')
    .usage('$0 <command> [options]')
    .command(dirCommand)
    .command(rulesCommand)
    .command(gitCommand)
    .command(installHookCommand)
    .command(imageCommand)
    .command(logsCommand)
    .command(triggersCommand)
    .command(auditCommand)
    .command(baselineCommand)
    .command(actionCommand)
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
  await cli.parseAsync();
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
