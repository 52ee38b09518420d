import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { OutputArgs } from '../../cli/output.js';
import { scanItems, type ScanContext } from '../../scan/context.js';
import { runScan } from '../../scan/run.js';
import { toolVersion } from '../../version.js';
import { gitSync } from './exec.js';
import { attributeFindings, HistoryReader } from './history.js';
import { historyRevs } from './meta.js';
import type { Repo } from './repo.js';
import { loadBuiltinRulesCached } from '../../rules/cache.js';
import { ScannedSet, stateDigest } from './state.js';

export interface HistoryOptions {
  incremental: boolean;
  stateFile?: string;
}

export const DEFAULT_STATE_FILE = join('.leakhound', 'git-state');

/** Says once what this repository's shape means for the scan: shallow, partial, submodules. */
export function warnAboutShape(repo: Repo, warn: (m: string) => void): void {
  if (repo.shallow) {
    warn('shallow clone: history before the shallow boundary is not in this repository and is not scanned (git fetch --unshallow for a full audit)');
  }
  const partial = gitSync(repo.target, ['config', '--get', 'extensions.partialclone']);
  if (partial.code === 0 && partial.stdout.length > 0) {
    warn('partial clone: objects that were never fetched are not scanned');
  }
  const gitmodules = repo.workTree !== undefined && existsSync(join(repo.workTree, '.gitmodules'));
  if (gitmodules || existsSync(join(repo.commonDir, 'modules'))) {
    warn('submodules are separate repositories and are not scanned with this one; run leakhound git in each submodule');
  }
}

function stateFilePath(repo: Repo, option: string | undefined): string {
  if (option !== undefined) return isAbsolute(option) ? option : resolve(option);
  return join(repo.baseDir, DEFAULT_STATE_FILE);
}

/** `leakhound git [REPO]`: every blob in the repository once, findings attributed to their first commit. */
export async function runHistory(args: OutputArgs, repo: Repo, options: HistoryOptions): Promise<number> {
  const stateFile = options.incremental ? stateFilePath(repo, options.stateFile) : undefined;
  let reader: HistoryReader | undefined;
  let known: ScannedSet | undefined;
  let digest: Buffer | undefined;
  let revs: string[] = [];
  const note = (m: string): void => {
    if (!args.quiet) process.stderr.write(`leakhound: ${m}\n`);
  };
  return runScan(args, {
    source: 'git',
    baseDir: repo.baseDir,
    options: { builtinRules: await loadBuiltinRulesCached() },
    async produce(ctx: ScanContext) {
      warnAboutShape(repo, ctx.warn);
      revs = historyRevs(repo.target);
      if (stateFile !== undefined) {
        digest = stateDigest(stateInputs(ctx));
        const loaded = ScannedSet.load(stateFile, repo.oidLength / 2, digest);
        if (loaded.note) note(loaded.note);
        known = loaded.set;
      }
      reader = new HistoryReader(repo, known, stateFile !== undefined);
      try {
        await scanItems(ctx, reader.items(), (item) => reader!.done(item));
      } finally {
        reader.cleanup();
      }
    },
    finalize: (findings) => attributeFindings(repo, revs, findings),
    after() {
      // Only once the report is out: a blob is "scanned" when its findings have been delivered.
      if (stateFile === undefined || reader === undefined || known === undefined || digest === undefined) return;
      const read = reader.read;
      const total = known.save(stateFile, digest, read.scanned ?? []);
      note(`incremental: ${read.scanned?.length ?? 0} new blobs scanned, ${read.skippedKnown} already scanned; state (${total} blobs) in ${stateFile}`);
    },
  });
}

/** Everything that changes what a blob's scan finds: a change means every blob is scanned again. */
function stateInputs(ctx: ScanContext): unknown {
  return {
    version: toolVersion,
    rules: ctx.rules.map((r) => [r.id, r.pattern, r.boundary, r.entropy, r.validate, r.allow]),
    allowRegexes: ctx.config.allowRegexes,
    allowFingerprints: ctx.config.allowFingerprints,
  };
}
