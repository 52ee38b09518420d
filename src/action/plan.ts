import { UserError } from '../core/errors.js';

/**
 * What the Action scans, decided from the `scan` input and, for `auto`, the event that started the
 * workflow. Pure: git is asked only through the `RepoQuery` it is given.
 */
export type ScanPlan =
  | { kind: 'range'; base: string; head: string; describe: string }
  | { kind: 'full'; incremental: boolean; describe: string }
  | { kind: 'dir'; paths: string[]; describe: string }
  | { kind: 'none'; describe: string };

export interface RepoQuery {
  /** The commit a revision names, or undefined when it is not in this clone. */
  commit(rev: string): string | undefined;
  shallow: boolean;
}

export interface PlanInputs {
  scan: string;
  range: string;
  paths: string[];
  incremental: boolean;
}

export interface Planned {
  plan: ScanPlan;
  warnings: string[];
}

export const SCAN_MODES = ['auto', 'range', 'full', 'dir'] as const;
const ZERO = /^0+$/;
const FETCH_HINT = 'check out with actions/checkout and fetch-depth: 0';

/** Plans a scan; `repo` is needed for the git modes only (undefined for scan: dir). */
export function planScan(inputs: PlanInputs, eventName: string | undefined, event: Record<string, unknown>, repo: () => RepoQuery): Planned {
  const warnings: string[] = [];
  switch (inputs.scan) {
    case 'dir':
      return { plan: { kind: 'dir', paths: inputs.paths, describe: `files in ${inputs.paths.join(', ')}` }, warnings };
    case 'full':
      return { plan: full(inputs.incremental), warnings };
    case 'range': {
      if (inputs.range === '') throw new UserError("scan: range needs the 'range' input (BASE..HEAD)");
      const m = /^(.+?)\.\.(?!\.)(.*)$/.exec(inputs.range);
      if (m === null) throw new UserError(`input 'range' must be BASE..HEAD (two dots), got '${inputs.range}'`);
      return { plan: { kind: 'range', base: m[1]!, head: m[2] || 'HEAD', describe: `commits ${inputs.range}` }, warnings };
    }
    case 'auto':
      break;
    default:
      throw new UserError(`input 'scan' must be one of ${SCAN_MODES.join(', ')}, got '${inputs.scan}'`);
  }
  if (inputs.range !== '') warnings.push("input 'range' is used only with scan: range; ignored");
  switch (eventName) {
    case 'pull_request':
    case 'pull_request_target': {
      const pr = object(event['pull_request'], 'pull_request');
      const base = sha(object(pr['base'], 'pull_request.base')['sha'], 'pull_request.base.sha');
      const head = sha(object(pr['head'], 'pull_request.head')['sha'], 'pull_request.head.sha');
      const number = typeof event['number'] === 'number' ? ` #${event['number']}` : '';
      const q = repo();
      need(q, base, `pull request${number}: base commit`);
      need(q, head, `pull request${number}: head commit`);
      return { plan: { kind: 'range', base, head, describe: `pull request${number}: commits ${short(base)}..${short(head)}` }, warnings };
    }
    case 'merge_group': {
      const g = object(event['merge_group'], 'merge_group');
      const base = sha(g['base_sha'], 'merge_group.base_sha');
      const head = sha(g['head_sha'], 'merge_group.head_sha');
      const q = repo();
      need(q, base, 'merge group: base commit');
      need(q, head, 'merge group: head commit');
      return { plan: { kind: 'range', base, head, describe: `merge group: commits ${short(base)}..${short(head)}` }, warnings };
    }
    case 'push':
      return planPush(event, repo(), warnings);
    case 'schedule':
    case 'workflow_dispatch':
      return { plan: full(inputs.incremental), warnings };
    case undefined:
      throw new UserError('scan: auto needs GITHUB_EVENT_NAME (set by GitHub Actions); outside Actions set scan to full, range or dir');
    default:
      warnings.push(`scan: auto has no rule for the '${eventName}' event; scanning the full history`);
      return { plan: full(inputs.incremental), warnings };
  }
}

function planPush(event: Record<string, unknown>, q: RepoQuery, warnings: string[]): Planned {
  const ref = typeof event['ref'] === 'string' ? event['ref'] : '';
  if (event['deleted'] === true) return { plan: { kind: 'none', describe: `push deleting ${ref || 'a ref'}: nothing to scan` }, warnings };
  const after = sha(event['after'], 'after');
  const before = typeof event['before'] === 'string' ? event['before'] : '';
  need(q, after, `push to ${ref}: pushed commit`);
  if (before !== '' && !ZERO.test(before)) {
    if (before === after) return { plan: { kind: 'none', describe: `push to ${ref}: no new commits` }, warnings };
    if (q.commit(before) !== undefined) {
      return { plan: { kind: 'range', base: before, head: after, describe: `push to ${ref}: commits ${short(before)}..${short(after)}` }, warnings };
    }
    if (q.shallow) throw new UserError(`push to ${ref}: the previous commit ${short(before)} is not in this shallow clone; ${FETCH_HINT}`);
    warnings.push(`push to ${ref}: the previous commit ${short(before)} is not in this clone (force push?); comparing with the default branch instead`);
  }
  // a new branch or tag, or a force push: what the default branch does not have yet
  const repository = typeof event['repository'] === 'object' && event['repository'] !== null ? (event['repository'] as Record<string, unknown>) : {};
  const defaultBranch = typeof repository['default_branch'] === 'string' ? repository['default_branch'] : undefined;
  if (defaultBranch !== undefined && ref !== `refs/heads/${defaultBranch}`) {
    for (const rev of [`refs/remotes/origin/${defaultBranch}`, `refs/heads/${defaultBranch}`]) {
      const base = q.commit(rev);
      if (base !== undefined) {
        return { plan: { kind: 'range', base, head: after, describe: `push to ${ref}: commits ${defaultBranch}..${short(after)}` }, warnings };
      }
    }
    if (q.shallow) throw new UserError(`push to ${ref}: the default branch ${defaultBranch} is not in this shallow clone; ${FETCH_HINT}`);
  }
  warnings.push(`push to ${ref}: no earlier commit to compare with; scanning the full history`);
  return { plan: full(false), warnings };
}

function full(incremental: boolean): ScanPlan {
  return { kind: 'full', incremental, describe: incremental ? 'full history (incremental)' : 'full history' };
}

function need(q: RepoQuery, rev: string, what: string): void {
  if (q.commit(rev) === undefined) {
    throw new UserError(`${what} ${short(rev)} is not in this clone${q.shallow ? ' (shallow)' : ''}; ${FETCH_HINT}`);
  }
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UserError(`the event payload has no ${what}`);
  return v as Record<string, unknown>;
}

function sha(v: unknown, what: string): string {
  if (typeof v !== 'string' || !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(v)) throw new UserError(`the event payload has no valid ${what}`);
  return v;
}

export const short = (rev: string): string => (/^[0-9a-f]{40,64}$/.test(rev) ? rev.slice(0, 7) : rev);
