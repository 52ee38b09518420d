import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OutputArgs } from '../cli/output.js';
import { loadConfig } from '../config/config.js';
import { UserError } from '../core/errors.js';
import { emptyStats, type Finding } from '../core/types.js';
import { loadBaseline, loadIgnoreFile } from '../findings/known.js';
import { renderSarif } from '../report/sarif.js';
import type { Report } from '../report/types.js';
import { writeFileAtomic } from '../report/write.js';
import { gitSync } from '../sources/git/exec.js';
import { openRepo, type Repo } from '../sources/git/repo.js';
import { carryOver, loadCarried, saveCarried } from './carry.js';
import { stateFileDigest } from '../sources/git/state.js';
import { appendTo, escapeData, writeOutputs } from './commands.js';
import { readActionEnv, workspacePath, type ActionEnv } from './env.js';
import { planScan, type RepoQuery, type ScanPlan } from './plan.js';
import { annotationLines, isHigh, summaryMarkdown, type Presentation } from './present.js';

export const FAIL_ON = ['any', 'high', 'never'] as const;

/**
 * The GitHub Action's entry point (`leakhound action`): reads the event and the inputs, plans the
 * scan, runs it through the library, then writes SARIF, annotations, the job summary and the
 * outputs. Returns the exit code: 1 when findings fail the step per `fail-on`, else 0.
 */
export async function runAction(env: ActionEnv = readActionEnv()): Promise<number> {
  const failOn = env.input('fail-on');
  if (!(FAIL_ON as readonly string[]).includes(failOn)) throw new UserError(`input 'fail-on' must be one of ${FAIL_ON.join(', ')}, got '${failOn}'`);
  const writeSummary = env.bool('summary');
  const annotate = env.bool('annotations');
  const paths = env.lines('paths');
  const config = optionalPath(env, 'config');
  const baseline = optionalPath(env, 'baseline');
  const stateDir = workspacePath(env, env.input('state-dir'), "input 'state-dir'");
  const sinks = env.lines('sinks');
  const sarifPath = env.input('sarif') !== '' ? workspacePath(env, env.input('sarif'), "input 'sarif'") : join(env.tempDir ?? env.workspace, 'leakhound.sarif');
  try {
    process.chdir(env.workspace);
  } catch {
    throw new UserError(`GITHUB_WORKSPACE ${env.workspace} is not a directory`);
  }

  let repo: Repo | undefined;
  const openGit = (): Repo => {
    if (paths.length > 1) throw new UserError("input 'paths' names one repository for git scans (several paths only with scan: dir)");
    repo ??= openRepo(workspacePath(env, paths[0] ?? '.', "input 'paths'", true));
    return repo;
  };
  const { plan, warnings } = planScan(
    { scan: env.input('scan'), range: env.input('range'), paths: paths.length > 0 ? paths : ['.'], incremental: env.bool('incremental') },
    env.eventName,
    env.event,
    () => repoQuery(openGit()),
  );
  if (plan.kind === 'range' || plan.kind === 'full') openGit(); // a bad repository fails before anything is said
  for (const w of warnings) process.stdout.write(`::warning title=leakhound::${escapeData(w)}\n`);
  process.stderr.write(`leakhound: scanning ${plan.describe}\n`);

  // the trigger store goes into the cached state-dir, also when only the config turns triggers on
  const triggerState = sinks.length > 0 || (plan.kind === 'full' && configWantsStore(config, openGit().baseDir)) ? { state: join(stateDir, 'state.db') } : {};
  let report: Report | undefined;
  const args: OutputArgs = {
    format: 'text',
    'show-secrets': false,
    quiet: false,
    ...(config !== undefined ? { config } : {}),
    ...(baseline !== undefined ? { baseline } : {}),
    ...(sinks.length > 0 ? { sink: sinks } : {}),
    ...triggerState,
    onReport: (r) => {
      report = r;
    },
  };
  const gitState = join(stateDir, 'git-state');
  const digestBefore = plan.kind === 'full' && plan.incremental ? stateFileDigest(gitState) : undefined;
  await runPlan(plan, args, openGit, gitState);
  report ??= { source: 'none', baseDir: repo?.baseDir ?? env.workspace, findings: [], rules: new Map(), stats: emptyStats() };

  const found = report.findings;
  let carried: Finding[] = [];
  if (plan.kind === 'full' && plan.incremental) {
    const continued = digestBefore !== undefined && digestBefore === stateFileDigest(gitState);
    if (continued) {
      const accepted = new Set([...loadIgnoreFile(undefined, report.baseDir), ...(baseline !== undefined ? loadBaseline(baseline) : [])]);
      carried = carryOver(openGit(), loadCarried(stateDir), found, report.rules, accepted);
    }
    saveCarried(stateDir, [...found, ...carried]);
  }

  const fails = failOn === 'any' ? () => true : failOn === 'high' ? isHigh : () => false;
  const failing = found.filter(fails).length;
  mkdirSync(dirname(sarifPath), { recursive: true });
  writeFileAtomic(sarifPath, renderSarif({ ...report, findings: [...found, ...carried] }));

  const p: Presentation = { baseDir: report.baseDir, workspace: env.workspace, repoUrl: env.repoUrl, fails };
  if (annotate) for (const line of annotationLines(p, found)) process.stdout.write(line + '\n');
  if (writeSummary && env.summaryFile !== undefined) {
    appendTo(
      env.summaryFile,
      summaryMarkdown(p, { describe: plan.describe, findings: found, failed: failing > 0, failOn, carried: carried.length, sarifPath }),
      'GITHUB_STEP_SUMMARY',
    );
  }
  writeOutputs(env.outputFile, { findings: String(found.length), sarif: sarifPath, scanned: plan.describe });
  if (failing > 0) {
    process.stderr.write(`leakhound: ${failing} ${failing === 1 ? 'finding fails' : 'findings fail'} this step (fail-on: ${failOn})\n`);
    return 1;
  }
  return 0;
}

async function runPlan(plan: ScanPlan, args: OutputArgs, openGit: () => Repo, gitState: string): Promise<void> {
  switch (plan.kind) {
    case 'none':
      return;
    case 'range': {
      const { runRange } = await import('../sources/git/range.js');
      await runRange(args, openGit(), `${plan.base}..${plan.head}`);
      return;
    }
    case 'full': {
      const { runHistory } = await import('../sources/git/history-scan.js');
      await runHistory(args, openGit(), { incremental: plan.incremental, ...(plan.incremental ? { stateFile: gitState } : {}) });
      return;
    }
    case 'dir': {
      const { runDir } = await import('../cli/commands/dir.js');
      await runDir({ ...args, paths: plan.paths, ignore: true, include: [], exclude: [] });
      return;
    }
  }
}

/** The config has a triggers section that names no store of its own. */
function configWantsStore(config: string | undefined, root: string): boolean {
  const c = loadConfig(config, root);
  return c.triggers !== undefined && c.triggers.state === undefined;
}

function optionalPath(env: ActionEnv, id: 'config' | 'baseline'): string | undefined {
  const v = env.input(id);
  return v === '' ? undefined : workspacePath(env, v, `input '${id}'`, true);
}

function repoQuery(repo: Repo): RepoQuery {
  return {
    shallow: repo.shallow,
    commit(rev) {
      if (rev.startsWith('-')) return undefined;
      const r = gitSync(repo.target, ['rev-parse', '--verify', '-q', '--end-of-options', `${rev}^{commit}`]);
      return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
    },
  };
}
