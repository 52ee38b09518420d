import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { TestRepo } from './helpers/git-repo.js';
import { githubToken } from './helpers/secrets.js';

interface Loc {
  path: string;
  line: number;
  column: number;
  properties?: Record<string, string | number | boolean>;
}
interface JsonFinding {
  ruleId: string;
  fingerprint: string;
  secret?: string;
  locations: Loc[];
}
interface JsonReport {
  source: string;
  summary: { findings: number; filesScanned: number; skipped: { binary: number } };
  findings: JsonFinding[];
}

let tmp: string;
let cleanup: () => void;
let repo: TestRepo;
const marker = () => join(tmp, 'MARKER');
const tok = {
  moved: githubToken(), // in src/config.js, renamed, deleted, then copied to copy.env
  branch: githubToken(), // only on an unmerged branch
  tag: githubToken(), // only in a commit a tag points to
  binary: githubToken(), // only in a binary blob
  dangling: githubToken(), // in an object no ref reaches
  removed: githubToken(), // added, then removed in the next commit
  stash: githubToken(), // only in the stash
  merged: githubToken(), // added on a branch that was merged
};
const sha: Record<string, string> = {};

beforeAll(() => {
  ({ dir: tmp, cleanup } = tempDir('leakhound-git-'));
  repo = new TestRepo(join(tmp, 'repo'));
  sha['first'] = repo.commit('initial import', {
    'README.md': '# project\n',
    'src/config.js': `// settings\nconst gh = "${tok.moved}";\n`,
  });
  repo.git(['mv', 'src/config.js', 'src/settings.js']);
  sha['rename'] = repo.commit('rename config');
  sha['removedAdd'] = repo.commit('add deploy script\n\nThe body mentions nothing secret but must not be reported.', {
    'deploy.sh': `#!/bin/sh\nexport TOKEN=${tok.removed}\n`,
  });
  repo.write('deploy.sh', '#!/bin/sh\nexport TOKEN="$DEPLOY_TOKEN"\n');
  sha['removedFix'] = repo.commit('read token from env');
  repo.write('data.bin', Buffer.concat([Buffer.from([0, 1, 2, 0, 255]), Buffer.from(` ${tok.binary} `)]));
  sha['binary'] = repo.commit('add binary');
  // unmerged branch
  repo.git(['checkout', '-q', '-b', 'feature']);
  sha['branch'] = repo.commit('feature work', { 'feature.txt': `token: ${tok.branch}\n` });
  // merged branch
  repo.git(['checkout', '-q', 'main']);
  repo.git(['checkout', '-q', '-b', 'topic']);
  sha['merged'] = repo.commit('topic work', { 'topic/creds.yaml': `github:\n  token: ${tok.merged}\n` });
  repo.git(['checkout', '-q', 'main']);
  repo.commit('main moves on', { 'CHANGES.md': 'v2\n' });
  repo.git(['merge', '-q', '--no-ff', '--no-edit', 'topic']);
  // deletion of the renamed file, then the same secret copied to a new file much later
  repo.rm('src/settings.js');
  sha['delete'] = repo.commit('remove settings');
  sha['copy'] = repo.commit('env sample', { 'copy.env': `GH=${tok.moved}\n` });
  // a commit reachable only from a tag
  repo.git(['checkout', '-q', '--detach']);
  sha['tag'] = repo.commit('release candidate', { 'tagged.txt': `key ${tok.tag}\n` });
  repo.git(['tag', '-a', '-m', 'rc', 'v1.0-rc']);
  repo.git(['checkout', '-q', 'main']);
  // stash
  repo.write('CHANGES.md', `v2\nwip ${tok.stash}\n`);
  repo.git(['stash', '-q']);
  // unreachable
  sha['dangling'] = repo.danglingBlob(`orphan ${tok.dangling}\n`);

  // The repository turns hostile: everything git could be tricked into running creates the marker.
  const script = join(tmp, 'evil.sh');
  writeFileSync(script, `#!/bin/sh\ntouch '${marker()}'\ncat\n`);
  chmodSync(script, 0o755);
  const gitDir = join(repo.dir, '.git');
  for (const hook of ['pre-commit', 'post-checkout', 'reference-transaction', 'post-index-change', 'fsmonitor-watchman']) {
    writeFileSync(join(gitDir, 'hooks', hook), `#!/bin/sh\ntouch '${marker()}'\n`);
    chmodSync(join(gitDir, 'hooks', hook), 0o755);
  }
  writeFileSync(join(repo.dir, '.gitattributes'), '* filter=evil diff=evil\n');
  const cfg = readFileSync(join(gitDir, 'config'), 'utf8');
  writeFileSync(
    join(gitDir, 'config'),
    cfg +
      `[core]\n\tfsmonitor = ${script}\n\tpager = ${script}\n\tsshCommand = ${script}\n` +
      `[filter "evil"]\n\tclean = ${script}\n\tsmudge = ${script}\n\tprocess = ${script}\n\trequired = true\n` +
      `[diff "evil"]\n\ttextconv = ${script}\n\tcommand = ${script}\n` +
      `[diff]\n\texternal = ${script}\n` +
      `[log]\n\tshowSignature = true\n[gpg]\n\tprogram = ${script}\n` +
      `[alias]\n\tlog = !${script}\n`,
  );
});
afterAll(() => cleanup());

function scan(args: string[] = []): { code: number; report: JsonReport; stderr: string } {
  const r = runCli(['git', repo.dir, '-f', 'json', ...args]);
  expect(r.stderr).not.toContain('internal error');
  return { code: r.code, report: JSON.parse(r.stdout) as JsonReport, stderr: r.stderr };
}

const byToken = (report: JsonReport, token: string): JsonFinding | undefined => report.findings.find((f) => f.secret === token);

describe('leakhound git: full history', () => {
  let report: JsonReport;
  let code: number;
  beforeAll(() => {
    ({ report, code } = scan(['--show-secrets']));
  });

  it('finds secrets in deleted files, unmerged branches, tags, merges, the stash and unreachable objects; exit 1', () => {
    expect(code).toBe(1);
    expect(report.source).toBe('git');
    for (const t of [tok.moved, tok.branch, tok.tag, tok.removed, tok.stash, tok.merged, tok.dangling]) {
      expect(byToken(report, t), `token ${t.slice(0, 8)}`).toBeDefined();
    }
    expect(report.findings).toHaveLength(7);
  });

  it('skips a binary blob', () => {
    expect(byToken(report, tok.binary)).toBeUndefined();
    expect(report.summary.skipped.binary).toBeGreaterThanOrEqual(1);
  });

  it('attributes each finding to the commit that introduced it, with author, email, date, summary', () => {
    const f = byToken(report, tok.removed)!;
    expect(f.locations).toHaveLength(1);
    const l = f.locations[0]!;
    expect(l.path).toBe('deploy.sh');
    expect(l.line).toBe(2);
    expect(l.column).toBe(14);
    expect(l.properties).toMatchObject({
      commit: sha['removedAdd'],
      author: 'Test Author',
      email: 'author@example.com',
      summary: 'add deploy script',
    });
    expect(String(l.properties!['date'])).toMatch(/^2023-11-1\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    // only the summary line of the message, never the body
    expect(JSON.stringify(report)).not.toContain('The body mentions');
    expect(byToken(report, tok.branch)!.locations[0]).toMatchObject({ path: 'feature.txt', properties: { commit: sha['branch'] } });
    expect(byToken(report, tok.tag)!.locations[0]).toMatchObject({ path: 'tagged.txt', properties: { commit: sha['tag'] } });
    expect(byToken(report, tok.merged)!.locations[0]).toMatchObject({ path: 'topic/creds.yaml', properties: { commit: sha['merged'] } });
    expect(byToken(report, tok.stash)!.locations[0]!.path).toBe('CHANGES.md');
  });

  it('first location is where the secret entered history; renames count as other paths and commits of the same blob', () => {
    const f = byToken(report, tok.moved)!;
    expect(f.locations.map((l) => l.path)).toEqual(['src/config.js', 'copy.env']);
    expect(f.locations[0]!.properties).toMatchObject({ commit: sha['first'], otherCommits: 1, otherPaths: 1, blob: repo.blobOf(sha['first']!, 'src/config.js') });
    expect(f.locations[1]!.properties).toMatchObject({ commit: sha['copy'], otherCommits: 0, otherPaths: 0 });
  });

  it('marks objects no ref reaches as unreachable', () => {
    const f = byToken(report, tok.dangling)!;
    expect(f.locations).toHaveLength(1);
    expect(f.locations[0]!.properties).toMatchObject({ blob: sha['dangling'], unreachable: true });
    expect(f.locations[0]!.properties!['commit']).toBeUndefined();
  });

  it('never runs hooks, filters, fsmonitor, pager, textconv, external diff or gpg from the scanned repository', () => {
    expect(existsSync(marker())).toBe(false);
  });

  it('SARIF: every location has commit, author, email, date; its URI is the path in the repository; no secret', () => {
    const r = runCli(['git', repo.dir, '-f', 'sarif', '--show-secrets']);
    expect(r.code).toBe(1);
    for (const t of Object.values(tok)) expect(r.stdout).not.toContain(t);
    const sarif = JSON.parse(r.stdout) as {
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } }; properties?: Record<string, unknown> }[] }[] }[];
    };
    const results = sarif.runs[0]!.results;
    expect(results).toHaveLength(7);
    const uris = results.map((res) => res.locations[0]!.physicalLocation.artifactLocation.uri);
    expect(uris).toContain('src/config.js');
    expect(uris).toContain('topic/creds.yaml');
    for (const res of results) {
      for (const loc of res.locations) {
        if (loc.properties?.['unreachable'] === true) continue;
        expect(loc.properties).toMatchObject({ commit: expect.stringMatching(/^[0-9a-f]{40}$/), author: 'Test Author', email: 'author@example.com', date: expect.any(String) });
      }
    }
    expect(existsSync(marker())).toBe(false);
  });

  it('text output names path, commit and author; secrets masked', () => {
    const r = runCli(['git', repo.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`src/config.js:2:13  (commit ${sha['first']!.slice(0, 12)}, Test Author`);
    expect(r.stdout).toContain('unreachable object');
    for (const t of Object.values(tok)) expect(r.stdout).not.toContain(t);
  });
});

describe('leakhound git: repository shapes', () => {
  it('a path that is not a git repository: one line, exit 2', () => {
    const plain = join(tmp, 'plain');
    mkdirSync(plain);
    const r = runCli(['git', plain]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`leakhound: error: ${plain}: not a git repository`);
    const missing = runCli(['git', join(tmp, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory/);
  });

  it('a bare clone is scanned the same way', () => {
    const bare = join(tmp, 'bare.git');
    repo.git(['clone', '-q', '--mirror', repo.dir, bare]);
    const r = runCli(['git', bare, '-f', 'json', '--show-secrets']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(byToken(report, tok.moved)!.locations[0]).toMatchObject({ path: 'src/config.js', properties: { commit: sha['first'] } });
    expect(byToken(report, tok.branch)).toBeDefined();
  });

  it('a shallow clone is scanned with one warning that history is incomplete', () => {
    const shallow = join(tmp, 'shallow');
    repo.git(['clone', '-q', '--depth', '1', '--no-local', '--branch', 'main', `file://${repo.dir}`, shallow]);
    const r = runCli(['git', shallow, '-f', 'json', '--show-secrets']);
    expect(r.stderr.match(/shallow clone/g)).toHaveLength(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    // the tip of main still holds copy.env
    expect(byToken(report, tok.moved)!.locations[0]).toMatchObject({ path: 'copy.env' });
    expect(byToken(report, tok.removed)).toBeUndefined();
  });

  it('a linked worktree scans the shared history; submodules get a clear warning', () => {
    const main = new TestRepo(join(tmp, 'wt-main'));
    const t = githubToken();
    main.commit('one', { 'k.txt': `${t}\n` });
    const wt = join(tmp, 'wt-linked');
    main.git(['worktree', 'add', '-q', '-b', 'side', wt]);
    const r = runCli(['git', wt, '-f', 'json', '--show-secrets']);
    expect(r.code).toBe(1);
    expect(byToken(JSON.parse(r.stdout) as JsonReport, t)!.locations[0]!.path).toBe('k.txt');
    const sup = new TestRepo(join(tmp, 'super'));
    sup.git(['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', main.dir, 'vendor/lib']);
    sup.commit('add submodule');
    const s = runCli(['git', sup.dir]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain('submodules are separate repositories and are not scanned with this one; run leakhound git in each submodule');
  });

  it('a repository without commits is clean', () => {
    const empty = new TestRepo(join(tmp, 'empty'));
    const r = runCli(['git', empty.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No secrets found');
  });

  it('bad flag combinations are one line, exit 2', () => {
    const r = runCli(['git', repo.dir, '--staged', '--range', 'a..b']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
