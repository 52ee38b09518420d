import type { Argv } from 'yargs';
import { applyRuleConfig, loadConfig } from '../../config/config.js';
import { loadRuleDir } from '../../rules/load.js';

interface RulesArgs {
  config?: string;
  format: 'text' | 'json';
}

export const rulesCommand = {
  command: 'rules <action>',
  describe: 'Inspect the rule set (rules list)',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['list'] as const, describe: 'What to do' })
      .option('config', { alias: 'c', type: 'string', describe: 'Config file (adds or disables rules)' })
      .option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const }),
  handler: (args: RulesArgs): void => {
    const rules = applyRuleConfig(loadRuleDir(), loadConfig(args.config, process.cwd()));
    if (args.format === 'json') {
      process.stdout.write(
        JSON.stringify(rules.map((r) => ({ id: r.id, title: r.title, provider: r.provider, confidence: r.confidence, severity: r.severity })), null, 2) + '\n',
      );
      return;
    }
    const w = Math.max(...rules.map((r) => r.id.length), 2);
    const pw = Math.max(...rules.map((r) => r.provider.length), 8);
    const lines = [`${'ID'.padEnd(w)}  ${'PROVIDER'.padEnd(pw)}  CONFIDENCE  SEVERITY  TITLE`];
    for (const r of rules) lines.push(`${r.id.padEnd(w)}  ${r.provider.padEnd(pw)}  ${r.confidence.padEnd(10)}  ${r.severity.padEnd(8)}  ${r.title}`);
    lines.push(`${rules.length} rules`);
    process.stdout.write(lines.join('\n') + '\n');
  },
};
