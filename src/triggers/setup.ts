import { resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Config } from '../config/config.js';
import { checkUniqueNames, DEFAULT_STATE, parseSinkFlag, type SinkSpec, type TriggerFlags, type TriggersConfig } from './config.js';
import { createSink, type Sink } from './sinks/index.js';

/** Where the store lives and which sinks to deliver to, from flags and config. */
export interface TriggerSetup {
  statePath: string;
  sinks: Sink[];
  config: TriggersConfig;
}

export type { TriggerFlags } from './config.js';

/** Store path: --state, else the config's triggers.state, else .leakhound/state.db in the working directory. */
export function statePath(flags: TriggerFlags, config: Config): string {
  if (flags.state !== undefined) {
    if (flags.state === '') throw new UserError('--state needs a file name');
    return resolve(flags.state);
  }
  return config.triggers?.state ?? resolve(DEFAULT_STATE);
}

/** Config sinks plus --sink flags, built (and checked) before anything is scanned or sent. */
export function setupTriggers(flags: TriggerFlags, config: Config): TriggerSetup {
  const base: TriggersConfig = config.triggers ?? { minSeverity: 'low', minConfidence: 'low', deliver: true, sinks: [] };
  const specs: SinkSpec[] = [...base.sinks, ...(flags.sink ?? []).map((s) => parseSinkFlag(s, process.cwd()))];
  checkUniqueNames(specs, (_, m) => {
    throw new UserError(m);
  });
  return { statePath: statePath(flags, config), sinks: specs.map(createSink), config: base };
}
