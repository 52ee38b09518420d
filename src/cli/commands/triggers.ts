import type { Argv } from 'yargs';
import { UserError } from '../../core/errors.js';
import { loadConfig } from '../../config/config.js';
import { deliver } from '../../triggers/delivery.js';
import { reportDelivery, displayPath, plural } from '../../triggers/scan-step.js';
import { setupTriggers, statePath } from '../../triggers/setup.js';
import { Store, type FindingStatus, type OutboxState, type TriggerListing } from '../../triggers/store.js';
import { EXIT_CLEAN, EXIT_FINDINGS } from '../output.js';

interface StoreArgs {
  state?: string;
  config?: string;
}
interface ListArgs extends StoreArgs {
  show: OutboxState | 'all';
  format: 'text' | 'json' | 'jsonl';
  limit?: number;
}
interface DeliverArgs extends StoreArgs {
  sink?: string[];
  batch: number;
  wait: number;
  quiet: boolean;
}
interface RetryArgs extends DeliverArgs {
  keys: string[];
  deliver: boolean;
}
interface AckArgs extends StoreArgs {
  keys: string[];
  status: FindingStatus;
  note?: string;
}

const storeFlags = <T>(y: Argv<T>) =>
  y
    .option('state', { type: 'string', describe: 'State store (default: triggers.state from the config, else .leakhound/state.db)' })
    .option('config', { alias: 'c', type: 'string', describe: 'Config file with triggers/sinks sections (default: ./.leakhound.yaml)' });

const sinkFlags = <T>(y: Argv<T>) =>
  y
    .option('sink', { type: 'string', array: true, nargs: 1, describe: 'Also deliver to nats://..., redis://..., https://... or jsonl:FILE (repeatable)' })
    .option('batch', { type: 'number', default: 500, describe: 'Triggers per delivery round (acknowledgements are saved after each)' })
    .option('wait', { type: 'number', default: 30, describe: 'Seconds to wait while another delivery holds the queue' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only warnings' });

function openStore(args: StoreArgs): Store {
  const config = loadConfig(args.config, process.cwd());
  return Store.open(statePath(args, config), { create: false });
}

const listCommand = {
  command: 'list',
  describe: 'Show rotation triggers (default: those still queued) and how each sink answered',
  builder: (y: Argv) =>
    storeFlags(y)
      .option('show', { choices: ['pending', 'delivered', 'cancelled', 'all'] as const, default: 'pending' as const, describe: 'Which triggers' })
      .option('format', { alias: 'f', choices: ['text', 'json', 'jsonl'] as const, default: 'text' as const, describe: 'Output format' })
      .option('limit', { type: 'number', describe: 'At most this many' }),
  handler: (args: ListArgs): void => {
    if (args.limit !== undefined && (!Number.isInteger(args.limit) || args.limit < 1)) throw new UserError('--limit must be a positive integer');
    const store = openStore(args);
    try {
      const rows = store.listTriggers(args.show, args.limit);
      if (args.format === 'text') process.stdout.write(listText(rows, args.show));
      else {
        const items = rows.map(listJson);
        process.stdout.write(args.format === 'json' ? JSON.stringify(items, null, 2) + '\n' : items.map((i) => JSON.stringify(i) + '\n').join(''));
      }
    } finally {
      store.close();
    }
    process.exitCode = EXIT_CLEAN;
  },
};

function listJson(r: TriggerListing) {
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    state: r.state,
    createdAt: r.createdAt,
    doneAt: r.doneAt,
    ruleId: r.ruleId,
    provider: r.provider,
    severity: r.severity,
    findingStatus: r.findingStatus,
    location: { path: r.path, line: r.line },
    deliveries: r.deliveries,
    event: JSON.parse(r.event) as unknown,
  };
}

function listText(rows: TriggerListing[], show: string): string {
  const lines = rows.map((r) => {
    const sinks = r.deliveries
      .map((d) => (d.ackedAt ? `${d.sink}=acked` : `${d.sink}=failed×${d.attempts}${d.lastError ? ` (${d.lastError})` : ''}`))
      .join(' ');
    return `${r.id}  ${r.state.padEnd(9)} ${r.severity.padEnd(8)} ${r.ruleId}  ${r.path}:${r.line}  fingerprint ${r.fingerprint}  finding ${r.findingStatus}${sinks ? '  ' + sinks : ''}`;
  });
  const what = show === 'all' ? '' : `${show} `;
  lines.push(`${rows.length} ${what}${plural(rows.length, 'trigger')}`);
  return lines.join('\n') + '\n';
}

async function deliverNow(args: DeliverArgs, store: Store, config: ReturnType<typeof loadConfig>): Promise<number> {
  const setup = setupTriggers(args, config);
  if (setup.sinks.length === 0) throw new UserError(`no sinks to deliver to: add a 'sinks' section to ${config.file ?? '.leakhound.yaml'} or pass --sink URL`);
  if (!Number.isInteger(args.batch) || args.batch < 1 || args.batch > 100_000) throw new UserError('--batch must be an integer from 1 to 100000');
  if (!Number.isFinite(args.wait) || args.wait < 0 || args.wait > 86_400) throw new UserError('--wait must be a number of seconds from 0 to 86400');
  const summary = await deliver(store, setup.sinks, { batchSize: args.batch, leaseWaitMs: args.wait * 1000 });
  const say = (m: string): void => {
    if (!args.quiet) process.stdout.write(m + '\n');
  };
  reportDelivery(summary, say, (m) => process.stderr.write(`leakhound: warning: ${m}\n`));
  if (summary.pending === 0) say(`outbox empty: every trigger in ${displayPath(store.file)} is delivered`);
  return summary.pending === 0 ? EXIT_CLEAN : EXIT_FINDINGS;
}

const deliverCommand = {
  command: 'deliver',
  describe: 'Deliver queued triggers to every sink now (exit 1 if some stay queued because a sink is down)',
  builder: (y: Argv) => sinkFlags(storeFlags(y)),
  handler: async (args: DeliverArgs): Promise<void> => {
    const config = loadConfig(args.config, process.cwd());
    const store = Store.open(statePath(args, config), { create: false });
    try {
      process.exitCode = await deliverNow(args, store, config);
    } finally {
      store.close();
    }
  },
};

const retryCommand = {
  command: 'retry [keys..]',
  describe: 'Re-send triggers (by fingerprint or trigger id) to every sink, or reset failed deliveries; then deliver',
  builder: (y: Argv) =>
    sinkFlags(storeFlags(y))
      .positional('keys', { type: 'string', array: true, default: [] as string[], describe: 'Fingerprints (or unique prefixes) or trigger ids' })
      .option('deliver', { type: 'boolean', default: true, describe: 'Deliver right away (--no-deliver: only re-queue)' }),
  handler: async (args: RetryArgs): Promise<void> => {
    const config = loadConfig(args.config, process.cwd());
    const store = Store.open(statePath(args, config), { create: false });
    try {
      if (args.deliver) setupTriggers(args, config); // check sinks before changing anything
      const n = args.keys.length > 0 ? store.requeue(store.resolve(args.keys)) : store.requeue(undefined);
      if (!args.quiet) {
        process.stdout.write(args.keys.length > 0 ? `${n} ${plural(n, 'trigger')} queued again for every sink\n` : `${n} failed ${plural(n, 'delivery')} reset\n`);
      }
      process.exitCode = args.deliver ? await deliverNow(args, store, config) : EXIT_CLEAN;
    } finally {
      store.close();
    }
  },
};

const ackCommand = {
  command: 'ack <keys..>',
  describe: 'Mark findings rotated (or ignored) by fingerprint or trigger id; their queued triggers are cancelled',
  builder: (y: Argv) =>
    storeFlags(y)
      .positional('keys', { type: 'string', array: true, demandOption: true, describe: 'Fingerprints (or unique prefixes of 8+ characters) or trigger ids' })
      .option('status', { choices: ['rotated', 'ignored', 'triggered', 'open'] as const, default: 'rotated' as const, describe: 'New status' })
      .option('note', { type: 'string', describe: 'Why (kept in the store and audit log; never put a secret here)' }),
  handler: (args: AckArgs): void => {
    const store = openStore(args);
    try {
      const fps = store.resolve(args.keys);
      const r = store.setStatus(fps, args.status, args.note);
      const cancelled = r.cancelled > 0 ? ` (${r.cancelled} queued ${plural(r.cancelled, 'trigger')} cancelled)` : '';
      process.stdout.write(`${r.changed} ${plural(r.changed, 'finding')} marked ${args.status}${cancelled}\n`);
    } finally {
      store.close();
    }
    process.exitCode = EXIT_CLEAN;
  },
};

export const triggersCommand = {
  command: 'triggers',
  describe: 'Rotation triggers: list the queue, deliver it, retry, mark secrets rotated',
  builder: (y: Argv) =>
    y
      .command(listCommand)
      .command(deliverCommand)
      .command(retryCommand)
      .command(ackCommand)
      .demandCommand(1, 'name an action: list, deliver, retry, ack'),
  handler: (): void => undefined,
};
