import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Real repositories built with the system git for the git tests. Every commit gets a fixed, increasing
 * date so "first commit" and ordering are deterministic. The test's own git ignores global config.
 */
export class TestRepo {
  private clock = 1_700_000_000;

  constructor(readonly dir: string, options: { bare?: boolean } = {}) {
    mkdirSync(dir, { recursive: true });
    this.git(['init', '-q', '-b', 'main', ...(options.bare ? ['--bare'] : [])]);
    this.git(['config', 'user.name', 'Test Author']);
    this.git(['config', 'user.email', 'author@example.com']);
    this.git(['config', 'commit.gpgsign', 'false']);
  }

  /** Runs git in the repository; throws with git's stderr when it fails. */
  git(args: string[], input?: string): string {
    const date = `${this.clock} +0000`;
    const r = spawnSync('git', ['-C', this.dir, ...args], {
      encoding: 'utf8',
      input,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: join(this.dir, '..'),
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/nonexistent/leakhound-test-none',
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
      },
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  }

  write(path: string, content: string | Buffer): void {
    const abs = join(this.dir, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }

  /** Writes files, stages everything, commits; returns the commit sha. */
  commit(message: string, files: Record<string, string | Buffer> = {}): string {
    for (const [p, c] of Object.entries(files)) this.write(p, c);
    this.git(['add', '-A']);
    this.clock += 3600;
    this.git(['commit', '-q', '--allow-empty', '-m', message]);
    return this.git(['rev-parse', 'HEAD']);
  }

  rm(path: string): void {
    this.git(['rm', '-q', path]);
  }

  head(): string {
    return this.git(['rev-parse', 'HEAD']);
  }

  /** Stores content as a loose object no ref points to. */
  danglingBlob(content: string): string {
    return this.git(['hash-object', '-w', '--stdin'], content);
  }

  blobOf(rev: string, path: string): string {
    return this.git(['rev-parse', `${rev}:${path}`]);
  }
}
