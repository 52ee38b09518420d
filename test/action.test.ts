import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/cli.js';
import { TestRepo } from './helpers/git-repo.js';
import { githubToken, hex, randomString } from './helpers/secrets.js';
import { parseAnnotation, runActionStep, type ActionRun } from './action-helpers.js';

/**
 * The Action's entry point against real repositories, with event payloads shaped like GitHub's
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads): pull_request, push, schedule.
 */

let tmp: string;
let cleanup: () => void;
let repo: TestRepo;
const circleci = (): string => `CCIPRJ_${randomString(22)}_${hex(20)}`; // medium severity
const tok = { old: githubToken(), pr: githubToken(), medium: circleci(), push: githubToken(), night: githubToken() };
const sha: Record<string, string> = {};
const PR_FILE = 'config/app,1%:x.env';
const REPOSITORY = { id: 1296269, name: 'demo', full_name: 'octo-org/demo', private: false, default_branch: 'main', html_url: 'https://github.com/octo-org/demo' };

function prEvent(base: string, head: string): unknown {
  return {
    action: 'synchronize',
    number: 12,
    before: base,
    after: head,
    pull_request: {
      number: 12,
      state: 'open',
      title: 'Add the app config',
      user: { login: 'octocat' },
      head: { label: 'octo-org:feature', ref: 'feature', sha: head, repo: REPOSITORY },
      base: { label: 'octo-org:main', ref: 'main', sha: base, repo: REPOSITORY },
      merge_commit_sha: '0'.repeat(40).replace(/^0/, 'e'),
    },
    repository: REPOSITORY,
    sender: { login: 'octocat', type: 'User' },
  };
}

function pushEvent(ref: string, before: string, after: string, extra: Record<string, unknown> = {}): unknown {
  return {
    ref,
    before,
    after,
    created: /^0+$/.test(before),
    deleted: /^0+$/.test(after),
    forced: false,
    base_ref: null,
    compare: `https://github.com/octo-org/demo/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits: [],
    head_commit: null,
    repository: { ...REPOSITORY, master_branch: 'main' },
    pusher: { name: 'octocat', email: 'octocat@example.com' },
    sender: { login: 'octocat', type: 'User' },
    ...extra,
  };
}

const ZERO = '0'.repeat(40);
const secrets = (): string[] => Object.values(tok);

function expectNoSecret(r: ActionRun, files: string[] = []): void {
  const all = [r.everything, ...files.filter(existsSync).map((f) => readFileSync(f, 'utf8'))].join('\n');
  for (const s of secrets()) expect(all).not.toContain(s);
}

const results = (r: ActionRun) => r.sarif!.runs[0]!.results;

beforeAll(() => {
  ({ dir: tmp, cleanup } = tempDir('leakhound-action-'));
  repo = new TestRepo(join(tmp, 'demo'));
  sha['init'] = repo.commit('initial', { 'README.md': '# demo\n' });
  sha['base'] = repo.commit('old secret', { 'a.txt': `legacy ${tok.old}\n` });
  repo.git(['checkout', '-q', '-b', 'feature']);
  sha['pr1'] = repo.commit('app config', { [PR_FILE]: `# app\nGITHUB_TOKEN=${tok.pr}\n`, 'a.txt': `legacy ${tok.old}\nmore\n` });
  sha['head'] = repo.commit('ci token', { 'ci.txt': `CIRCLE_TOKEN=${tok.medium}\n` });
  repo.git(['checkout', '-q', 'main']);
  sha['push'] = repo.commit('deploy script', { 'deploy.sh': `#!/bin/sh\n# deploy\nexport TOKEN=${tok.push}\n` });
});
afterAll(() => cleanup());

describe('pull_request', () => {
  let r: ActionRun;
  beforeAll(() => {
    r = runActionStep({ workspace: repo.dir, tmp, eventName: 'pull_request', event: prEvent(sha['base']!, sha['head']!) });
  });

  it('reports the secrets the PR adds (not the one already in its base) and fails the step', () => {
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(1);
    expect(r.outputs['findings']).toBe('2');
    expect(r.outputs['scanned']).toBe(`pull request #12: commits ${sha['base']!.slice(0, 7)}..${sha['head']!.slice(0, 7)}`);
    expect(r.stderr).toContain('2 findings fail this step (fail-on: any)');
  });

  it('writes SARIF for upload-sarif: one result per secret, repository-relative URIs, commit properties', () => {
    expect(r.outputs['sarif']).toMatch(/leakhound\.sarif$/);
    expect(r.sarif!.runs).toHaveLength(1);
    const byRule = new Map(results(r).map((x) => [x.ruleId, x]));
    expect([...byRule.keys()].sort()).toEqual(['circleci-project-token', 'github-pat-classic']);
    const gh = byRule.get('github-pat-classic')!;
    expect(gh.level).toBe('error');
    const loc = gh.locations[0]!;
    expect(loc.physicalLocation.artifactLocation.uri).toBe('config/app%2C1%25%3Ax.env');
    expect(loc.physicalLocation.region.startLine).toBe(2);
    expect(loc.properties).toMatchObject({ commit: sha['pr1'], author: 'Test Author' });
  });

  it('annotates each secret on its line, escaped per the workflow-command rules, without the secret', () => {
    expect(r.annotations).toHaveLength(2);
    const raw = r.annotations.find((l) => l.includes('github-pat-classic'))!;
    expect(raw).toMatch(/^::error file=config\/app%2C1%25%3Ax\.env,line=2,endLine=2,col=14,endColumn=54,title=leakhound%3A /);
    const a = parseAnnotation(raw);
    expect(a.props).toMatchObject({ file: PR_FILE, line: '2', title: 'leakhound: GitHub personal access token (classic) (github-pat-classic)' });
    expect(a.message).toContain(`ghp_********`);
    expect(a.message).toContain(`commit ${sha['pr1']!.slice(0, 12)} by Test Author`);
    const ci = parseAnnotation(r.annotations.find((l) => l.includes('circleci-project-token'))!);
    expect(ci).toMatchObject({ level: 'error', props: { file: 'ci.txt', line: '1' } });
  });

  it('writes a job summary table: rule, file, line, commit, redacted', () => {
    expect(r.summary).toContain('### leakhound: 2 secrets found');
    expect(r.summary).toContain('| Rule | File | Line | Commit | Redacted |');
    const row = r.summary.split('\n').find((l) => l.includes('github-pat-classic'))!;
    const cells = row.split(' | ');
    expect(cells[0]).toBe('| <code>github-pat-classic</code> critical');
    expect(cells[1]).toContain(`<a href="https://github.com/octo-org/demo/blob/${sha['pr1']}/config/app%2C1%25%3Ax.env#L2"><code>config/app,1%:x.env</code></a>`);
    expect(cells[2]).toBe('2');
    expect(cells[3]).toBe(`<a href="https://github.com/octo-org/demo/commit/${sha['pr1']}"><code>${sha['pr1']!.slice(0, 7)}</code></a>`);
    expect(cells[4]).toBe('<code>ghp&#95;&#42;&#42;&#42;&#42;&#42;&#42;&#42;&#42;</code> |');
    expect(r.summary).toContain('The step fails (fail-on: any)');
  });

  it('never shows a secret: log, outputs, summary, SARIF', () => {
    expectNoSecret(r);
  });

  it('fail-on: never passes and downgrades annotations to warnings', () => {
    const r2 = runActionStep({ workspace: repo.dir, tmp, eventName: 'pull_request', event: prEvent(sha['base']!, sha['head']!), inputs: { 'fail-on': 'never', summary: 'false' } });
    expect(r2.code).toBe(0);
    expect(r2.outputs['findings']).toBe('2');
    expect(r2.annotations.map((l) => parseAnnotation(l).level)).toEqual(['warning', 'warning']);
    expect(r2.summary).toBe('');
  });

  it('fail-on: high passes a medium-severity finding (explicit scan: range), annotated as a warning', () => {
    const r2 = runActionStep({ workspace: repo.dir, tmp, inputs: { scan: 'range', range: `${sha['pr1']}..${sha['head']}`, 'fail-on': 'high', annotations: 'true' } });
    expect(r2.stderr).not.toMatch(/error/);
    expect(r2.code).toBe(0);
    expect(r2.outputs['findings']).toBe('1');
    expect(r2.annotations).toHaveLength(1);
    expect(parseAnnotation(r2.annotations[0]!)).toMatchObject({ level: 'warning', props: { file: 'ci.txt' } });
    expect(r2.summary).toContain('The step does not fail (fail-on: high)');
    const high = runActionStep({ workspace: repo.dir, tmp, eventName: 'pull_request', event: prEvent(sha['base']!, sha['head']!), inputs: { 'fail-on': 'high', annotations: 'false' } });
    expect(high.code).toBe(1);
    expect(high.annotations).toEqual([]);
    expect(high.stderr).toContain('1 finding fails this step (fail-on: high)');
  });

  it('a shallow clone without the base commit is one clear error with the fetch-depth hint, exit 2', () => {
    const shallow = join(tmp, 'shallow');
    const c = spawnSync('git', ['clone', '-q', '--depth', '1', '--branch', 'feature', `file://${repo.dir}`, shallow], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(c.status).toBe(0);
    const r2 = runActionStep({ workspace: shallow, tmp, eventName: 'pull_request', event: prEvent(sha['base']!, sha['head']!) });
    expect(r2.code).toBe(2);
    expect(r2.annotations).toEqual([`::error title=leakhound::pull request #12: base commit ${sha['base']!.slice(0, 7)} is not in this clone (shallow); check out with actions/checkout and fetch-depth: 0`]);
    expect(r2.stderr.trim().split('\n')).toEqual([`leakhound: error: pull request #12: base commit ${sha['base']!.slice(0, 7)} is not in this clone (shallow); check out with actions/checkout and fetch-depth: 0`]);
    expect(r2.outputs).toEqual({});
  });
});

describe('push', () => {
  it('scans the pushed commits before..after', () => {
    const r = runActionStep({ workspace: repo.dir, tmp, eventName: 'push', event: pushEvent('refs/heads/main', sha['base']!, sha['push']!) });
    expect(r.code).toBe(1);
    expect(r.outputs['findings']).toBe('1');
    expect(r.outputs['scanned']).toBe(`push to refs/heads/main: commits ${sha['base']!.slice(0, 7)}..${sha['push']!.slice(0, 7)}`);
    const a = parseAnnotation(r.annotations[0]!);
    expect(a.props).toMatchObject({ file: 'deploy.sh', line: '3' });
    expect(results(r)[0]!.locations[0]!.properties).toMatchObject({ commit: sha['push'] });
    expectNoSecret(r);
  });

  it('a new branch is compared with the default branch', () => {
    const r = runActionStep({ workspace: repo.dir, tmp, eventName: 'push', event: pushEvent('refs/heads/feature', ZERO, sha['head']!) });
    expect(r.code).toBe(1);
    expect(r.outputs['scanned']).toBe(`push to refs/heads/feature: commits main..${sha['head']!.slice(0, 7)}`);
    expect(results(r).map((x) => x.ruleId).sort()).toEqual(['circleci-project-token', 'github-pat-classic']);
    expectNoSecret(r);
  });

  it('a force push whose previous commit is gone is compared with the default branch, with a warning', () => {
    const r = runActionStep({ workspace: repo.dir, tmp, eventName: 'push', event: pushEvent('refs/heads/feature', 'f'.repeat(40), sha['head']!, { forced: true }) });
    expect(r.code).toBe(1);
    expect(r.outputs['findings']).toBe('2');
    expect(r.annotations[0]).toBe('::warning title=leakhound::push to refs/heads/feature: the previous commit fffffff is not in this clone (force push?); comparing with the default branch instead');
  });

  it('a branch deletion scans nothing and passes; the SARIF is still written (empty)', () => {
    const r = runActionStep({ workspace: repo.dir, tmp, eventName: 'push', event: pushEvent('refs/heads/old', sha['base']!, ZERO) });
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ findings: '0', scanned: 'push deleting refs/heads/old: nothing to scan' });
    expect(results(r)).toEqual([]);
    expect(r.summary).toContain('### leakhound: no secrets found');
  });
});

describe('schedule: full history, incremental between runs', () => {
  let ws: string;
  let nightly: TestRepo;
  const night = (extra: Record<string, string> = {}, eventName = 'schedule') =>
    runActionStep({ workspace: ws, tmp, eventName, event: eventName === 'schedule' ? { schedule: '17 3 * * *' } : { inputs: {}, ref: 'refs/heads/main', repository: REPOSITORY }, inputs: extra });

  beforeAll(() => {
    ws = join(tmp, 'nightly');
    const c = spawnSync('git', ['clone', '-q', `file://${repo.dir}`, ws], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(c.status).toBe(0);
    nightly = new TestRepo(ws); // re-init keeps the clone; sets the test identity
  });

  it('first run: every secret in the history; state and carried findings kept in state-dir (no secrets)', () => {
    const r = night();
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(1);
    expect(r.outputs['scanned']).toBe('full history (incremental)');
    expect(r.outputs['findings']).toBe('4');
    expect(results(r)).toHaveLength(4);
    expect(existsSync(join(ws, '.leakhound', 'git-state'))).toBe(true);
    expect(existsSync(join(ws, '.leakhound', 'findings.json'))).toBe(true);
    expectNoSecret(r, [join(ws, '.leakhound', 'findings.json')]);
  });

  it('next run with nothing new: no findings, passes, and the SARIF still carries the open ones', () => {
    const r = night();
    expect(r.code).toBe(0);
    expect(r.outputs['findings']).toBe('0');
    expect(results(r)).toHaveLength(4);
    expect(r.annotations).toEqual([]);
    expect(r.summary).toContain('4 findings from earlier runs stay in the SARIF report');
    expect(r.stderr).toContain('0 new blobs scanned');
  });

  it('a new commit: only its secret is reported (and triggered), the SARIF has all five', () => {
    nightly.commit('nightly secret', { 'ops/new.env': `T=${tok.night}\n` });
    const sink = join(tmp, 'triggers.jsonl');
    const r = night({ sinks: `jsonl:${sink}` });
    expect(r.code).toBe(1);
    expect(r.outputs['findings']).toBe('1');
    expect(results(r)).toHaveLength(5);
    expect(parseAnnotation(r.annotations[0]!).props).toMatchObject({ file: 'ops/new.env', line: '1' });
    const triggers = readFileSync(sink, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rule: { id: string }; location: { path: string } });
    expect(triggers).toHaveLength(1);
    expect(triggers[0]).toMatchObject({ rule: { id: 'github-pat-classic' }, location: { path: 'ops/new.env' } });
    expect(existsSync(join(ws, '.leakhound', 'state.db'))).toBe(true);
    expectNoSecret(r, [sink, join(ws, '.leakhound', 'findings.json')]);
  });

  it('a finding accepted into the ignore file since is no longer carried', () => {
    const before = night();
    const sarif = JSON.parse(readFileSync(before.outputs['sarif']!, 'utf8')) as { runs: { results: { partialFingerprints: Record<string, string>; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    const deploy = sarif.runs[0]!.results.find((x) => x.locations[0]!.physicalLocation.artifactLocation.uri === 'deploy.sh')!;
    writeFileSync(join(ws, '.leakhound-fingerprints'), `${deploy.partialFingerprints['leakhoundSecret/v1']}\n`);
    const r = night();
    expect(r.code).toBe(0);
    expect(results(r)).toHaveLength(4);
    expect(results(r).some((x) => x.locations[0]!.physicalLocation.artifactLocation.uri === 'deploy.sh')).toBe(false);
  });

  it('workflow_dispatch with incremental: false scans everything again and carries nothing; config sinks keep their store in state-dir', () => {
    const sink = join(tmp, 'config-triggers.jsonl');
    writeFileSync(join(ws, '.leakhound.yaml'), `sinks:\n  - type: jsonl\n    path: ${sink}\n`);
    const r = night({ incremental: 'false', 'state-dir': 'audit-state' }, 'workflow_dispatch');
    expect(r.code).toBe(1);
    expect(r.outputs['scanned']).toBe('full history');
    expect(r.outputs['findings']).toBe('4');
    expect(results(r)).toHaveLength(4);
    expect(existsSync(join(ws, 'audit-state', 'state.db'))).toBe(true);
    expect(readFileSync(sink, 'utf8').trim().split('\n')).toHaveLength(4);
    expectNoSecret(r, [sink]);
  });
});

describe('scan: dir and bad input', () => {
  it('scan: dir scans files (several paths, one per line), annotated relative to the workspace', () => {
    const ws = join(tmp, 'dirscan');
    mkdirSync(join(ws, 'src'), { recursive: true });
    mkdirSync(join(ws, 'docs'), { recursive: true });
    writeFileSync(join(ws, 'src', 'main.py'), `print(1)\nKEY = "${tok.pr}"\n`);
    writeFileSync(join(ws, 'docs', 'x.md'), `ok\n`);
    writeFileSync(join(ws, 'other.txt'), `${tok.push}\n`);
    const r = runActionStep({ workspace: ws, tmp, inputs: { scan: 'dir', paths: 'src\ndocs\n' } });
    expect(r.code).toBe(1);
    expect(r.outputs['findings']).toBe('1');
    expect(r.outputs['scanned']).toBe('files in src, docs');
    expect(parseAnnotation(r.annotations[0]!).props).toMatchObject({ file: 'src/main.py', line: '2' });
    expectNoSecret(r);
  });

  it('bad inputs and payloads are one clear line and exit 2', () => {
    const cases: [Parameters<typeof runActionStep>[0], string][] = [
      [{ workspace: repo.dir, tmp, eventName: 'push', event: {}, inputs: { 'fail-on': 'sometimes' } }, "input 'fail-on' must be one of any, high, never, got 'sometimes'"],
      [{ workspace: repo.dir, tmp, inputs: { scan: 'everything' } }, "input 'scan' must be one of auto, range, full, dir, got 'everything'"],
      [{ workspace: repo.dir, tmp }, 'scan: auto needs GITHUB_EVENT_NAME'],
      [{ workspace: repo.dir, tmp, eventName: 'pull_request', event: { pull_request: { base: {} } } }, 'the event payload has no valid pull_request.base.sha'],
      [{ workspace: repo.dir, tmp, eventName: 'pull_request', env: { GITHUB_EVENT_PATH: join(tmp, 'missing.json') } }, 'cannot read the event payload'],
      [{ workspace: repo.dir, tmp, inputs: { scan: 'range', range: 'main' } }, "input 'range' must be BASE..HEAD"],
      [{ workspace: repo.dir, tmp, inputs: { scan: 'full', summary: 'yes' } }, "input 'summary' must be true or false, got 'yes'"],
      [{ workspace: repo.dir, tmp, inputs: { scan: 'full', config: 'nope.yaml' } }, "input 'config': nope.yaml does not exist"],
      [{ workspace: repo.dir, tmp, inputs: { scan: 'full', paths: 'a\nb' } }, "input 'paths' names one repository"],
    ];
    for (const [opts, message] of cases) {
      const r = runActionStep(opts);
      expect(r.code, message).toBe(2);
      expect(r.stderr.trim().split('\n'), message).toHaveLength(1);
      expect(r.stderr, message).toContain(message);
      expect(r.annotations[0], message).toMatch(/^::error title=leakhound::/);
    }
  });
});
