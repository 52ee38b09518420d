import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Names of per-directory ignore files honoured by the walker (gitignore syntax). */
export const IGNORE_FILES = ['.gitignore', '.leakhoundignore'];

interface Level {
  /** Directory of the ignore file, relative to the walk root, '' for the root, no trailing slash. */
  dir: string;
  matcher: Ignore;
}

/**
 * The .gitignore / .leakhoundignore rules in force for one directory: its own files plus those of
 * every ancestor up to the walk root. Deeper files override shallower ones, as in git.
 */
export class IgnoreStack {
  private constructor(private readonly levels: readonly Level[]) {}

  /** The rules above the walk root: the repository's own exclude file, which applies like a root .gitignore. */
  static root(rootAbs: string): IgnoreStack {
    const exclude = readIfPresent(join(rootAbs, '.git', 'info', 'exclude'));
    if (exclude === undefined) return IgnoreStack.empty();
    return new IgnoreStack([{ dir: '', matcher: ignore().add(exclude) }]);
  }

  static empty(): IgnoreStack {
    return new IgnoreStack([]);
  }

  /** The stack for a directory, adding those of its ignore files that its listing shows (`present`). */
  enter(dirAbs: string, dirRel: string, present: ReadonlySet<string>): IgnoreStack {
    let matcher: Ignore | undefined;
    for (const name of IGNORE_FILES) {
      if (!present.has(name)) continue;
      const text = readIfPresent(join(dirAbs, name));
      if (text === undefined) continue;
      matcher ??= ignore();
      matcher.add(text);
    }
    return matcher === undefined ? this : new IgnoreStack([...this.levels, { dir: dirRel, matcher }]);
  }

  /** Whether a path (relative to the walk root, '/'-separated) is ignored. */
  ignores(rel: string, isDir: boolean): boolean {
    let ignored = false;
    for (const level of this.levels) {
      const sub = level.dir === '' ? rel : rel.startsWith(level.dir + '/') ? rel.slice(level.dir.length + 1) : undefined;
      if (sub === undefined || sub === '') continue;
      const r = level.matcher.test(isDir ? sub + '/' : sub);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    return ignored;
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
