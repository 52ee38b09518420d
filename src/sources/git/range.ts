import type { OutputArgs } from '../../cli/output.js';
import { UserError } from '../../core/errors.js';
import type { Finding } from '../../core/types.js';
import { fingerprintOf } from '../../findings/fingerprint.js';
import { scanItems, type ScanContext } from '../../scan/context.js';
import { runScan } from '../../scan/run.js';
import { scanBuffer } from '../../engine/scan.js';
import { looksBinary } from '../../workers/task.js';
import { readObjects } from './catfile.js';
import { gitSync, firstLine } from './exec.js';
import { HistoryReader, relocateFindings } from './history.js';
import { addedBlobs, type BlobOrigin } from './meta.js';
import type { Repo } from './repo.js';
import { loadBuiltinRulesCached } from '../../rules/cache.js';
import { warnAboutShape } from './history-scan.js';

/** Up to this many blobs a range is scanned on the main thread: worker start-up would cost more. */
const INLINE_MAX_BLOBS = 64;

export function parseRange(range: string): { base: string; head: string } {
  const m = /^(.+?)\.\.(?!\.)(.*)$/.exec(range);
  if (m === null || range.includes('...')) throw new UserError(`--range must be BASE..HEAD (two dots), got '${range}'`);
  return { base: m[1]!, head: m[2] === '' ? 'HEAD' : m[2]! };
}

function resolveCommit(repo: Repo, rev: string, which: string): string {
  if (rev.startsWith('-')) throw new UserError(`--range: ${which} '${rev}' is not a revision`);
  const r = gitSync(repo.target, ['rev-parse', '--verify', '-q', '--end-of-options', `${rev}^{commit}`]);
  if (r.code !== 0) throw new UserError(`--range: ${which} '${rev}' is not a commit in this repository`);
  return r.stdout.toString('utf8').trim();
}

/**
 * `leakhound git --range BASE..HEAD`: secrets the range introduces. Every blob a commit of the range
 * adds is scanned; a secret counts as introduced when its fingerprint is not in BASE's tree. BASE's
 * tree is not scanned whole: `git grep -F` looks for the candidate secrets in it, and only the files it
 * names are scanned to confirm (same rule, same secret).
 */
export async function runRange(args: OutputArgs, repo: Repo, range: string): Promise<number> {
  const { base, head } = parseRange(range);
  const baseSha = resolveCommit(repo, base, 'BASE');
  const headSha = resolveCommit(repo, head, 'HEAD');
  const origins = await rangeBlobs(repo, baseSha, headSha);
  const candidates = new Set<string>();
  let baseline = new Set<string>();
  return runScan(args, {
    source: 'git-range',
    baseDir: repo.baseDir,
    options: { builtinRules: await loadBuiltinRulesCached() },
    inline: origins.size <= INLINE_MAX_BLOBS,
    async produce(ctx: ScanContext) {
      if (repo.shallow) warnAboutShape(repo, ctx.warn);
      const reader = new HistoryReader(repo, undefined, false, [...origins.keys()]);
      try {
        await scanItems(ctx, reader.items(), (item, result) => {
          reader.done(item);
          for (const h of result.hits) candidates.add(h.secret);
        });
      } finally {
        reader.cleanup();
      }
      if (ctx.collector.count > 0) baseline = await treeFingerprints(ctx, repo, baseSha, candidates);
      candidates.clear();
    },
    finalize(findings: Finding[]) {
      const introduced = findings.filter((f) => !baseline.has(f.fingerprint));
      return relocateFindings(introduced, origins);
    },
  });
}

/** Blobs the commits of BASE..HEAD add, each with the oldest commit in the range that adds it. */
async function rangeBlobs(repo: Repo, baseSha: string, headSha: string): Promise<Map<string, BlobOrigin>> {
  return addedBlobs(repo.target, [`^${baseSha}`, headSha]);
}

/**
 * Fingerprints of the candidate secrets that already occur in `treeish`. The secrets go to git on
 * stdin (never on a command line, where other users could read them).
 */
export async function treeFingerprints(ctx: ScanContext, repo: Repo, treeish: string, secrets: ReadonlySet<string>): Promise<Set<string>> {
  const lines = new Set<string>();
  for (const s of secrets) for (const l of s.split(/\r?\n/)) if (l.trim().length >= 8) lines.add(l);
  const out = new Set<string>();
  if (lines.size === 0) return out;
  const r = gitSync(
    repo.target,
    ['grep', '-z', '-l', '-I', '-F', '--no-textconv', '--no-color', '-f', '-', treeish, '--'],
    [...lines].join('\n') + '\n',
  );
  if (r.code > 1) throw new UserError(`git grep failed: ${firstLine(r.stderr)}`);
  const names = r.stdout.toString('utf8').split('\0').filter((n) => n !== '');
  for (const o of await readObjects(repo.target, names)) {
    if (o.data === undefined || looksBinary(o.data)) continue;
    for (const h of scanBuffer(ctx.compiled, o.data)) out.add(fingerprintOf(h.ruleId, h.secret));
  }
  return out;
}
