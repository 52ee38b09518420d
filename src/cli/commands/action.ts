import type { Argv } from 'yargs';
import { UserError } from '../../core/errors.js';

export const actionCommand = {
  command: 'action',
  describe: 'Run as the GitHub Action: read the event and INPUT_* variables, scan, write SARIF, summary, annotations and outputs',
  builder: (y: Argv) => y,
  handler: async (): Promise<void> => {
    const { runAction } = await import('../../action/main.js');
    const { escapeData } = await import('../../action/commands.js');
    try {
      process.exitCode = await runAction();
    } catch (e) {
      // shown on the run page as well as in the log; the CLI then prints its one line and exits 2
      const msg = e instanceof UserError ? e.message : `internal error: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}`;
      process.stdout.write(`::error title=leakhound::${escapeData(msg)}\n`);
      throw e;
    }
  },
};
