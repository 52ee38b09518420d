import { emitReport, type OutputArgs } from '../../cli/output.js';
import { fingerprintOf } from '../../findings/fingerprint.js';
import { dropAllowedLocations } from '../../findings/collect.js';
import { createContext, scanItems, type ScanContext, type SourceItem } from '../../scan/context.js';
import { runTask } from '../../workers/task.js';
import { readObjects } from './catfile.js';
import { gitSync } from './exec.js';
import type { Repo } from './repo.js';

const EMPTY_TREE: Record<Repo['objectFormat'], string> = {
  sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321',
};

/** One staged change: the file's blob in the index, and the blob HEAD had at the same path. */
export interface StagedChange {
  path: string;
  /** Index blob; undefined when the change deletes the file. */
  newOid: string | undefined;
  /** HEAD blob; undefined when the file is new. */
  oldOid: string | undefined;
}

/**
 * The index against HEAD (against the empty tree before the first commit), as raw diff lines: one
 * spawn gives both the staged and the committed blob id of every touched path. Honours
 * GIT_INDEX_FILE, which git sets for hooks of `git commit -a` and partial commits.
 */
export function stagedChanges(repo: Repo): StagedChange[] {
  const args = ['diff-index', '--cached', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', '--ignore-submodules=all'];
  let r = gitSync(repo.target, [...args, 'HEAD', '--']);
  if (r.code !== 0) {
    const head = gitSync(repo.target, ['rev-parse', '--verify', '-q', 'HEAD']);
    if (head.code === 0) throw new Error(`git diff-index failed: ${r.stderr.trim().split('\n')[0]}`);
    r = gitSync(repo.target, [...args, EMPTY_TREE[repo.objectFormat], '--']); // no commit yet
    if (r.code !== 0) throw new Error(`git diff-index failed: ${r.stderr.trim().split('\n')[0]}`);
  }
  const parts = r.stdout.toString('utf8').split('\0');
  const zero = /^0+$/;
  const out: StagedChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i]!;
    const path = parts[i + 1]!;
    // :oldmode newmode oldsha newsha status
    const [oldMode, newMode, oldSha, newSha] = meta.slice(1).split(' ');
    if (newSha === undefined) continue;
    const isFile = (m: string | undefined) => m === '100644' || m === '100755';
    out.push({
      path,
      newOid: isFile(newMode) && !zero.test(newSha) ? newSha : undefined,
      oldOid: isFile(oldMode) && oldSha !== undefined && !zero.test(oldSha) ? oldSha : undefined,
    });
  }
  return out;
}

/**
 * `leakhound git --staged`: what the next commit would add. Scanned on the main thread (worker start-up
 * would cost more than the scan); only secrets whose fingerprint is not already in HEAD's version of a
 * touched file are reported. Unlike other scans it records nothing and fires no rotation trigger: a
 * blocked commit has not left the machine. It also skips runScan's imports (trigger sinks): latency.
 */
export async function runStaged(args: OutputArgs, repo: Repo): Promise<number> {
  const changes = stagedChanges(repo);
  const added = changes.filter((c) => c.newOid !== undefined);
  const objects = await readObjects(repo.target, added.map((c) => c.newOid!));
  const { loadBuiltinRulesCached } = await import('../../rules/cache.js');
  const { loadBaseline, loadIgnoreFile } = await import('../../findings/known.js');
  const ctx = createContext(
    {
      showSecrets: args['show-secrets'],
      quiet: args.quiet,
      builtinRules: await loadBuiltinRulesCached(),
      ignoredFingerprints: [
        ...loadIgnoreFile(args['ignore-file'], repo.baseDir),
        ...(args.baseline !== undefined ? loadBaseline(args.baseline) : []),
      ],
      ...(args.config !== undefined ? { config: args.config } : {}),
    },
    repo.baseDir,
    { inline: true },
  );
  const started = Date.now();
  const items: SourceItem[] = [];
  added.forEach((c, i) => {
    const o = objects[i]!;
    if (o.data !== undefined && o.size > 0) items.push({ task: { kind: 'bytes', data: o.data }, origin: { path: c.path } });
  });
  try {
    await scanItems(ctx, items);
  } finally {
    await ctx.scanner.close();
  }
  let findings = dropAllowedLocations(ctx.collector.findings(), ctx.allowedPath);
  if (findings.length > 0) {
    const baseline = await headFingerprints(ctx, repo, changes);
    findings = findings.filter((f) => !baseline.has(f.fingerprint));
  }
  ctx.stats.durationMs = Date.now() - started;
  const code = emitReport({ source: 'git-staged', baseDir: repo.baseDir, findings, rules: ctx.rulesById, stats: ctx.stats }, args);
  if (findings.length > 0 && !args.quiet) process.stderr.write(blockedMessage(findings.length));
  return code;
}

/** Fingerprints of every secret in HEAD's version of the touched files (and of files deleted or renamed away). */
async function headFingerprints(ctx: ScanContext, repo: Repo, changes: StagedChange[]): Promise<Set<string>> {
  const olds = changes.filter((c) => c.oldOid !== undefined).map((c) => c.oldOid!);
  const set = new Set<string>();
  for (const o of await readObjects(repo.target, [...new Set(olds)])) {
    if (o.data === undefined) continue;
    const r = runTask(ctx.compiled, { kind: 'bytes', data: o.data });
    for (const h of r.hits) set.add(fingerprintOf(h.ruleId, h.secret));
  }
  return set;
}

function blockedMessage(n: number): string {
  return [
    `leakhound: commit blocked: the staged changes add ${n === 1 ? 'a secret' : `${n} secrets`} (file:line:column and rule above).`,
    '  Remove it from the file, or if it is not a real secret (a false positive):',
    '    - append a `leakhound:allow` comment on that line, or',
    '    - add its fingerprint to .leakhound-fingerprints (or under `allow: fingerprints:` in .leakhound.yaml)',
    '  A real secret that was ever pushed must be rotated. To commit anyway: git commit --no-verify',
    '',
  ].join('\n');
}
