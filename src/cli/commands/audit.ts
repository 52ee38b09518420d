import type { Argv } from 'yargs';
import { UserError } from '../../core/errors.js';
import { loadConfig } from '../../config/config.js';
import { verifyChain } from '../../triggers/audit.js';
import { displayPath } from '../../triggers/scan-step.js';
import { statePath } from '../../triggers/setup.js';
import { Store } from '../../triggers/store.js';
import { EXIT_CLEAN, EXIT_FINDINGS } from '../output.js';

interface AuditArgs {
  state?: string;
  config?: string;
}
interface VerifyArgs extends AuditArgs {
  head?: string;
}
interface ListArgs extends AuditArgs {
  format: 'text' | 'jsonl';
  limit?: number;
}

const flags = <T>(y: Argv<T>) =>
  y
    .option('state', { type: 'string', describe: 'State store (default: triggers.state from the config, else .leakhound/state.db)' })
    .option('config', { alias: 'c', type: 'string', describe: 'Config file (default: ./.leakhound.yaml)' });

function openStore(args: AuditArgs): Store {
  return Store.open(statePath(args, loadConfig(args.config, process.cwd())), { create: false });
}

const verifyCommand = {
  command: 'verify',
  describe: 'Check the audit log hash chain; report the first tampered entry (exit 1), if any',
  builder: (y: Argv) => flags(y).option('head', { type: 'string', describe: 'A head hash printed by an earlier verify: fail if the log no longer contains it (detects a cut-off tail)' }),
  handler: (args: VerifyArgs): void => {
    if (args.head !== undefined && !/^[0-9a-f]{64}$/.test(args.head)) throw new UserError('--head must be a 64-character hex hash');
    const store = openStore(args);
    try {
      const where = displayPath(store.file);
      const check = store.quickCheck();
      if (check !== 'ok') {
        process.stdout.write(`${where}: the database is damaged: ${check}\n`);
        process.exitCode = EXIT_FINDINGS;
        return;
      }
      let sawHead = args.head === undefined;
      const entries = (function* () {
        for (const e of store.auditEntries()) {
          if (e.hash === args.head) sawHead = true;
          yield e;
        }
      })();
      const r = verifyChain(entries);
      if (!r.ok) {
        process.stdout.write(`${where}: audit log tampered: first bad entry #${r.seq} (${r.kind}, ${r.at}): ${r.reason}\n`);
        process.exitCode = EXIT_FINDINGS;
        return;
      }
      if (!sawHead) {
        process.stdout.write(`${where}: audit log tampered: head ${args.head} is no longer in the log (entries were removed from its end)\n`);
        process.exitCode = EXIT_FINDINGS;
        return;
      }
      process.stdout.write(`${where}: audit log intact: ${r.entries} ${r.entries === 1 ? 'entry' : 'entries'}, head ${r.head}\n`);
      process.exitCode = EXIT_CLEAN;
    } finally {
      store.close();
    }
  },
};

const listCommand = {
  command: 'list',
  describe: 'Print the audit log (scan runs, deliveries, status changes)',
  builder: (y: Argv) =>
    flags(y)
      .option('format', { alias: 'f', choices: ['text', 'jsonl'] as const, default: 'text' as const })
      .option('limit', { type: 'number', describe: 'Only the last N entries' }),
  handler: (args: ListArgs): void => {
    if (args.limit !== undefined && (!Number.isInteger(args.limit) || args.limit < 1)) throw new UserError('--limit must be a positive integer');
    const store = openStore(args);
    try {
      let entries = [...store.auditEntries()];
      if (args.limit !== undefined) entries = entries.slice(-args.limit);
      const out = entries.map((e) => {
        if (args.format === 'jsonl') return JSON.stringify({ seq: e.seq, at: e.at, kind: e.kind, data: JSON.parse(e.data) as unknown, prevHash: e.prevHash, hash: e.hash });
        return `#${e.seq} ${e.at} ${e.kind.padEnd(8)} ${summarize(e.kind, e.data)}  ${e.hash.slice(0, 16)}`;
      });
      process.stdout.write(out.map((l) => l + '\n').join(''));
    } finally {
      store.close();
    }
  },
};

function summarize(kind: string, data: string): string {
  try {
    const d = JSON.parse(data) as Record<string, unknown>;
    const n = (k: string): number => (Array.isArray(d[k]) ? (d[k] as unknown[]).length : typeof d[k] === 'number' ? (d[k] as number) : 0);
    if (kind === 'scan') return `${String(d['source'])} ${String(d['target'])}: ${n('findings')} findings, ${n('newFindings')} new, ${n('triggers')} triggers`;
    if (kind === 'delivery') return `${String(d['sink'])}: ${n('delivered')} delivered, ${n('failed')} failed`;
    if (kind === 'status') return `${n('fingerprints')} findings -> ${String(d['status'])}`;
    return data.length > 100 ? data.slice(0, 100) + '…' : data;
  } catch {
    return '(unreadable entry)';
  }
}

export const auditCommand = {
  command: 'audit',
  describe: 'The hash-chained audit log of scans and deliveries',
  builder: (y: Argv) => y.command(verifyCommand).command(listCommand).demandCommand(1, 'name an action: verify, list'),
  handler: (): void => undefined,
};
