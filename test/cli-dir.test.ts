import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAddon } from '../src/native/addon.js';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, tempDir } from './helpers/cli.js';
import { githubToken, githubTokenBadChecksum } from './helpers/secrets.js';

interface JsonReport {
  summary: { findings: number; filesScanned: number; bytesScanned: number; skipped: Record<string, number> };
  findings: {
    ruleId: string;
    fingerprint: string;
    redacted: string;
    secret?: string;
    locations: { path: string; line: number; column: number; endLine: number; endColumn: number }[];
  }[];
}

const json = (stdout: string): JsonReport => JSON.parse(stdout) as JsonReport;

let root: string;
let cleanup: () => void;
const token = githubToken();
const token2 = githubToken('gho');

beforeAll(() => {
  ({ dir: root, cleanup } = tempDir());
  mkdirSync(join(root, 'src', 'nested'), { recursive: true });
  writeFileSync(join(root, 'src', 'config.js'), `// settings\nconst gh = "${token}";\n`);
  writeFileSync(join(root, 'src', 'nested', 'copy.env'), `X=1\nGITHUB_TOKEN=${token}\n`);
  writeFileSync(join(root, 'src', 'other.yaml'), `oauth:\n  token: ${token2}\n`);
  writeFileSync(join(root, 'src', 'clean.txt'), 'nothing to see here\n');
  writeFileSync(join(root, 'src', 'bad-checksum.txt'), `t=${githubTokenBadChecksum()}\n`);
});
afterAll(() => cleanup());

describe('leakhound dir: findings and exit codes', () => {
  it('reports each secret once with every location, exit 1, secret redacted', () => {
    const r = runCli(['dir', root, '-f', 'json']);
    expect(r.code).toBe(1);
    const report = json(r.stdout);
    expect(report.findings).toHaveLength(2);
    const ghp = report.findings.find((f) => f.ruleId === 'github-pat-classic')!;
    expect(ghp.locations.map((l) => `${l.path}:${l.line}:${l.column}`)).toEqual([
      'src/config.js:2:13',
      'src/nested/copy.env:2:14',
    ]);
    expect(ghp.locations[0]!.endColumn).toBe(13 + token.length);
    expect(ghp.fingerprint).toBe(createHash('sha256').update(`github-pat-classic\0${token}`).digest('hex'));
    expect(r.stdout).not.toContain(token);
    expect(r.stdout).not.toContain(token.slice(4));
    expect(ghp.redacted.startsWith('ghp_')).toBe(true);
    expect(report.summary.filesScanned).toBe(5);
  });

  it('text output names file, line, rule and a summary; no secret', () => {
    const r = runCli(['dir', root]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('src/config.js:2:13');
    expect(r.stdout).toContain('[github-pat-classic]');
    expect(r.stdout).toMatch(/2 secrets found \(.*\) in 5 files/);
    expect(r.stdout).not.toContain(token);
    expect(r.stdout).not.toMatch(/\x1b\[/); // not a TTY: no colour
  });

  it('--show-secrets reveals secrets in json and text, never in SARIF', () => {
    expect(runCli(['dir', root, '-f', 'json', '--show-secrets']).stdout).toContain(token);
    expect(runCli(['dir', root, '--show-secrets']).stdout).toContain(token);
    const sarif = runCli(['dir', root, '-f', 'sarif', '--show-secrets']).stdout;
    expect(sarif).not.toContain(token);
    expect(sarif).not.toContain(token2);
  });

  it('jsonl writes one finding per line', () => {
    const lines = runCli(['dir', root, '-f', 'jsonl']).stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(JSON.parse(l)).toHaveProperty('fingerprint');
  });

  it('exits 0 when nothing is found', () => {
    const r = runCli(['dir', join(root, 'src', 'clean.txt')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No secrets found in 1 file');
  });

  it('a missing path, a bad flag and a bad value each exit 2 with one line and no stack trace', () => {
    for (const args of [
      ['dir', join(root, 'does-not-exist')],
      ['dir', root, '--no-such-flag'],
      ['dir', root, '--format', 'xml'],
      ['dir', root, '--threads', '0'],
      ['frobnicate'],
    ]) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^leakhound: error: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
  });
});

describe('leakhound dir: walking', () => {
  let tree: string;
  let done: () => void;
  beforeAll(() => {
    ({ dir: tree, cleanup: done } = tempDir());
    const put = (rel: string, content: string | Buffer) => {
      mkdirSync(join(tree, rel, '..'), { recursive: true });
      writeFileSync(join(tree, rel), content);
    };
    put('.gitignore', 'build/\n*.log\n!keep.log\n');
    put('.leakhoundignore', 'vendor/\n');
    put('build/out.js', `t="${githubToken()}"\n`);
    put('app.log', `t="${githubToken()}"\n`);
    put('keep.log', `t="${githubToken()}"\n`);
    put('vendor/lib.js', `t="${githubToken()}"\n`);
    put('sub/.gitignore', 'secret.txt\n');
    put('sub/secret.txt', `t="${githubToken()}"\n`);
    put('sub/ok.txt', `t="${githubToken()}"\n`);
    put('docs/readme.md', `t="${githubToken()}"\n`);
    put('bin/blob.bin', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]), Buffer.from(`t="${githubToken()}"`)]));
    put('.git/config', `t="${githubToken()}"\n`);
    // symlinks: one to a secret outside the root, one loop, one to a file inside
    const outside = tempDir();
    writeFileSync(join(outside.dir, 'outside.txt'), `t="${githubToken()}"\n`);
    symlinkSync(join(outside.dir, 'outside.txt'), join(tree, 'link-out.txt'));
    symlinkSync(outside.dir, join(tree, 'link-out-dir'));
    symlinkSync(tree, join(tree, 'loop'));
    symlinkSync('sub', join(tree, 'sub-link'));
  });
  afterAll(() => done());

  const paths = (args: string[]): string[] =>
    json(runCli(['dir', tree, '-f', 'json', ...args]).stdout)
      .findings.flatMap((f) => f.locations.map((l) => l.path))
      .sort();

  it('honours .gitignore (with negation and nesting) and .leakhoundignore, skips .git, binaries and symlinks', () => {
    const r = runCli(['dir', tree, '-f', 'json']);
    const report = json(r.stdout);
    expect(report.findings.flatMap((f) => f.locations.map((l) => l.path)).sort()).toEqual(['docs/readme.md', 'keep.log', 'sub/ok.txt']);
    expect(report.summary.skipped['binary']).toBe(1);
    expect(report.summary.skipped['symlinks']).toBe(4);
    const text = runCli(['dir', tree]).stdout;
    expect(text).toContain('1 binary');
  });

  it('--no-ignore scans ignored files too, still never .git or symlinks', () => {
    expect(paths(['--no-ignore'])).toEqual([
      'app.log', 'build/out.js', 'docs/readme.md', 'keep.log', 'sub/ok.txt', 'sub/secret.txt', 'vendor/lib.js',
    ]);
  });

  it('--include and --exclude filter by glob', () => {
    expect(paths(['--include', '**/*.md', '--include', 'sub/**'])).toEqual(['docs/readme.md', 'sub/ok.txt']);
    expect(paths(['--exclude', 'docs/**', '--exclude', '*.log'])).toEqual(['sub/ok.txt']);
  });

  it('an unreadable file gets one warning and the scan goes on', () => {
    const { dir, cleanup: c } = tempDir();
    try {
      writeFileSync(join(dir, 'locked.txt'), `t="${githubToken()}"\n`);
      writeFileSync(join(dir, 'open.txt'), `t="${githubToken()}"\n`);
      chmodSync(join(dir, 'locked.txt'), 0o000);
      chmodSync(dir, 0o755);
      let r;
      if (process.getuid?.() === 0) {
        // root reads anything: run the scan as nobody so the permission bits apply
        const setpriv = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(import.meta.dirname, '..', 'bin', 'leakhound.js'), 'dir', dir, '-f', 'json'], { encoding: 'utf8' });
        r = { code: setpriv.status, stdout: setpriv.stdout, stderr: setpriv.stderr };
      } else {
        r = runCli(['dir', dir, '-f', 'json']);
      }
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/warning: cannot read locked\.txt \(EACCES\), skipped/);
      const report = json(r.stdout);
      expect(report.findings.map((f) => f.locations[0]!.path)).toEqual(['open.txt']);
      expect(report.summary.skipped['unreadable']).toBe(1);
    } finally {
      c();
    }
  });
});

describe('leakhound dir: large files', () => {
  it('finds a secret that straddles two read windows exactly once, at the right line and column', () => {
    const { dir, cleanup: c } = tempDir();
    try {
      const t = githubToken();
      const lineLen = 100;
      const filler = ('a'.repeat(lineLen - 1) + '\n').repeat(Math.ceil((64 * 1024 * 3) / lineLen));
      // place the token so that it crosses the 64 KiB window boundary after the filler's 2nd window
      const boundary = 2 * 64 * 1024;
      const before = filler.slice(0, boundary - 11) + ' ';
      const lineNo = before.split('\n').length;
      const col = before.length - before.lastIndexOf('\n');
      const content = before + t + ' ' + filler.slice(boundary - 10) + '\n' + filler + filler;
      writeFileSync(join(dir, 'big.txt'), content);
      const report = json(runCli(['dir', dir, '-f', 'json']).stdout);
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]!.locations).toEqual([
        { path: 'big.txt', line: lineNo, column: col, endLine: lineNo, endColumn: col + t.length },
      ]);
    } finally {
      c();
    }
  });
});

describe('leakhound dir: reports', () => {
  it('-o writes the report atomically and leaves no temporary file', () => {
    const { dir, cleanup: c } = tempDir();
    try {
      const out = join(dir, 'report.json');
      const r = runCli(['dir', root, '-f', 'json', '-o', out]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('2 secrets found');
      expect(json(readFileSync(out, 'utf8')).findings).toHaveLength(2);
      expect(readdirSync(dir)).toEqual(['report.json']);
      const bad = runCli(['dir', root, '-o', join(dir, 'missing-dir', 'r.json')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^leakhound: error: cannot write .*r\.json: ENOENT\n$/);
      expect(existsSync(join(dir, 'missing-dir'))).toBe(false);
    } finally {
      c();
    }
  });

  it('gives byte-identical JSON and SARIF whatever the thread count, on the main thread alone, and on RE2 alone', () => {
    const { dir, cleanup: c } = tempDir();
    try {
      for (let i = 0; i < 300; i++) {
        mkdirSync(join(dir, `d${i % 7}`), { recursive: true });
        const body = i % 3 === 0 ? `k${i}=${githubToken()}\nshared=${token}\n` : `plain file ${i}\n`;
        writeFileSync(join(dir, `d${i % 7}`, `f${i}.txt`), body.repeat(1 + (i % 5)));
      }
      // not UTF-8 (a Latin-1 file): Hyperscan hands it to RE2
      writeFileSync(join(dir, 'latin1.txt'), Buffer.concat([Buffer.from('caf\xe9 = ', 'latin1'), Buffer.from(`${githubToken()}\n`)]));
      // larger than one pass: windows, each through the multi-pattern pass
      writeFileSync(join(dir, 'large.txt'), `${'filler line\n'.repeat(40_000)}key=${githubToken()}\n${'more\n'.repeat(20_000)}`);
      // workers from the first file (LEAKHOUND_INLINE_MS=0), and the main thread alone
      const workers = { env: { LEAKHOUND_INLINE_MS: '0' } };
      const inline = { env: { LEAKHOUND_INLINE_MS: '600000' } };
      const re2Only = { env: { LEAKHOUND_INLINE_MS: '0', LEAKHOUND_HYPERSCAN: '0' } };
      for (const format of ['json', 'sarif']) {
        const one = runCli(['dir', dir, '-f', format, '--threads', '1'], workers).stdout;
        const two = runCli(['dir', dir, '-f', format, '--threads', '2'], workers).stdout;
        const four = runCli(['dir', dir, '-f', format, '--threads', '4'], workers).stdout;
        const main = runCli(['dir', dir, '-f', format], inline).stdout;
        const re2 = runCli(['dir', dir, '-f', format, '--threads', '2'], re2Only).stdout;
        expect(one.length).toBeGreaterThan(1000);
        expect(one).toContain('latin1.txt');
        expect(one).toContain('large.txt');
        expect(two).toBe(one);
        expect(four).toBe(one);
        expect(main).toBe(one);
        expect(re2).toBe(one);
      }
    } finally {
      c();
    }
  });
});

describe('leakhound: commands load only when they run', () => {
  it('still lists every command in --help, shows one command\'s help, suggests on a typo', () => {
    const all = runCli(['--help']);
    expect(all.code).toBe(0);
    for (const c of ['dir', 'git', 'image', 'logs', 'baseline', 'rules', 'triggers', 'audit', 'install-hook', 'action']) expect(all.stdout).toContain(`leakhound ${c}`);
    const dir = runCli(['dir', '--help']);
    expect(dir.code).toBe(0);
    expect(dir.stdout).toContain('--threads');
    expect(dir.stdout).toContain('the main thread included');
    const typo = runCli(['dri', '.']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('leakhound: error: Did you mean dir?\n');
    const bad = runCli(['dir', '--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^leakhound: error: Unknown argument/);
  });
});

describe('leakhound dir: progress', () => {
  it('draws a progress line on a terminal, not with --quiet, not in CI', () => {
    const { dir, cleanup: c } = tempDir();
    try {
      for (let i = 0; i < 400; i++) writeFileSync(join(dir, `f${i}.txt`), `line ${i}\n`.repeat(200));
      const underTty = (extra: string, env: Record<string, string>) =>
        spawnSync('script', ['-qfec', `${process.execPath} ${join(import.meta.dirname, '..', 'bin', 'leakhound.js')} dir ${dir} ${extra} -o ${join(dir, 'out.txt')}`, '/dev/null'], {
          encoding: 'utf8',
          env: { ...process.env, LEAKHOUND_PROGRESS_INTERVAL_MS: '1', ...env },
        }).stdout;
      expect(underTty('', { CI: '' })).toMatch(/scanning: [\d,]+ files, .* findings, .*\/s/);
      expect(underTty('--quiet', { CI: '' })).not.toContain('scanning:');
      expect(underTty('', { CI: 'true' })).not.toContain('scanning:');
    } finally {
      c();
    }
  });
});

describe('leakhound dir: the rules parse cache', () => {
  it('is kept per install: replaces its own older versions, leaves other installs alone, holds no examples', () => {
    const { dir, cleanup: c } = tempDir();
    try {
      const cache = join(dir, 'cache');
      const own = join(cache, 'leakhound');
      mkdirSync(own, { recursive: true });
      const other = 'rules-aaaaaaaaaaaa-0123456789abcdef0123456789abcdef.json';
      const legacy = 'rules-0123456789abcdef0123456789abcdef.json';
      writeFileSync(join(own, other), '[]');
      writeFileSync(join(own, legacy), '[]');
      writeFileSync(join(dir, 'a.env'), `T=${githubToken()}\n`);
      const env = { XDG_CACHE_HOME: cache };
      expect(runCli(['dir', join(dir, 'a.env'), '-q'], { env }).code).toBe(1);
      const files = readdirSync(own).sort();
      expect(files).toContain(other);
      expect(files).not.toContain(legacy);
      const mine = files.filter((f) => f !== other && f.startsWith('rules-'));
      expect(mine).toHaveLength(1);
      // the compiled Hyperscan database is kept beside it (when the addon is built)
      if (nativeAddon() !== undefined) expect(files.filter((f) => /^hyperscan-[0-9a-f]{32}\.db$/.test(f))).toHaveLength(1);
      expect(mine[0]).toMatch(/^rules-[0-9a-f]{12}-[0-9a-f]{32}\.json$/);
      const cached = JSON.parse(readFileSync(join(own, mine[0]!), 'utf8')) as { examples: string[]; prefilter?: string }[];
      expect(cached.length).toBeGreaterThan(300);
      expect(cached.every((r) => r.examples.length === 0)).toBe(true);
      // the second run reads the cache and finds the same
      expect(runCli(['dir', join(dir, 'a.env'), '-q'], { env }).code).toBe(1);
      expect(readdirSync(own).sort()).toEqual(files);
    } finally {
      c();
    }
  });
});
