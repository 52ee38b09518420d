import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { UserError } from '../../core/errors.js';
import { IGNORE_FILES, IgnoreStack } from './ignore-stack.js';

/** A regular file found by the walk. */
export interface FileEntry {
  absPath: string;
  /** Path shown in reports: relative to the display base, '/'-separated. */
  path: string;
}

export interface WalkOptions {
  /** Honour .gitignore / .leakhoundignore (false with --no-ignore). */
  useIgnoreFiles: boolean;
  include: string[];
  exclude: string[];
}

export interface WalkCounters {
  skippedSymlinks: number;
  skippedIgnored: number;
  skippedUnreadable: number;
}

export type WarningSink = (message: string) => void;

/** Where report paths are relative to: the one directory scanned, else the working directory. */
export function displayBase(roots: string[], cwd: string): string {
  if (roots.length === 1) {
    const abs = resolve(cwd, roots[0]!);
    try {
      if (statSync(abs).isDirectory()) return realpathSync(abs);
    } catch {
      /* reported by walk */
    }
  }
  return realpathSync(cwd);
}

function toDisplay(base: string, abs: string): string {
  const rel = relative(base, abs);
  if (rel === '' ) return '.';
  if (rel.startsWith('..') || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel)) return abs.split(sep).join('/');
  return rel.split(sep).join('/');
}

/**
 * Walks the given roots and yields regular files, synchronously: a listing is microseconds, and
 * every asynchronous step per file cost the main thread time the workers needed. Symbolic links are never followed (so a link
 * out of the root or a link loop cannot be entered); .git and .leakhound directories are skipped; ignore files
 * prune whole directories, as git does.
 */
export function* walkFiles(
  roots: string[],
  cwd: string,
  options: WalkOptions,
  counters: WalkCounters,
  warn: WarningSink,
): Generator<FileEntry> {
  const base = displayBase(roots, cwd);
  const include = options.include.length > 0 ? picomatch(options.include, { dot: true }) : undefined;
  const exclude = options.exclude.length > 0 ? picomatch(options.exclude, { dot: true }) : undefined;
  const excluded = (rel: string): boolean => exclude !== undefined && (exclude(rel) || exclude(rel + '/'));

  for (const root of roots) {
    const rootAbs = resolve(cwd, root);
    let st: Stats | undefined;
    try {
      st = lstatSync(rootAbs);
    } catch (e) {
      throw new UserError(`cannot scan ${root}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (st.isSymbolicLink()) {
      // A root named by the user is followed once; nothing below it is.
      st = statSync(rootAbs, { throwIfNoEntry: false });
      if (!st) throw new UserError(`cannot scan ${root}: broken symbolic link`);
    }
    if (st.isFile()) {
      const abs = realpathSync(rootAbs);
      yield { absPath: abs, path: toDisplay(base, abs) };
      continue;
    }
    if (!st.isDirectory()) throw new UserError(`cannot scan ${root}: not a file or directory`);
    const realRoot = realpathSync(rootAbs);
    // each directory carries its parent's ignore rules; its own ignore files are added once its
    // listing shows they exist (no failed open per directory)
    const stack: { abs: string; rel: string; parentIgnores: IgnoreStack }[] = [
      { abs: realRoot, rel: '', parentIgnores: options.useIgnoreFiles ? IgnoreStack.root(realRoot) : IgnoreStack.empty() },
    ];
    // report paths are the walk's own relative paths when the root is the display base
    const display = realRoot === base ? (rel: string, abs: string) => rel || toDisplay(base, abs) : (_rel: string, abs: string) => toDisplay(base, abs);
    while (stack.length > 0) {
      const popped = stack.pop()!;
      let entries: Dirent[];
      try {
        // synchronous: a listing is microseconds, and a thread-pool round trip per directory starved the workers
        entries = readdirSync(popped.abs, { withFileTypes: true });
      } catch (e) {
        counters.skippedUnreadable++;
        warn(`cannot read directory ${toDisplay(base, popped.abs)} (${(e as NodeJS.ErrnoException).code ?? 'error'}), skipped`);
        continue;
      }
      const dir = {
        ...popped,
        ignores: options.useIgnoreFiles ? popped.parentIgnores.enter(popped.abs, popped.rel, new Set(entries.filter((e) => IGNORE_FILES.includes(e.name)).map((e) => e.name))) : popped.parentIgnores,
      };
      entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
      const subdirs: typeof stack = [];
      // the directory's path is already normal (a real path): joining needs no normalizing per entry
      const prefix = dir.abs.endsWith(sep) ? dir.abs : dir.abs + sep;
      for (const ent of entries) {
        const abs = prefix + ent.name;
        const rel = dir.rel === '' ? ent.name : `${dir.rel}/${ent.name}`;
        if (ent.isSymbolicLink()) {
          counters.skippedSymlinks++;
          continue;
        }
        if (ent.isDirectory()) {
          // git's object store and leakhound's own state (findings store, incremental state) are not sources
          if (ent.name === '.git' || ent.name === '.leakhound') continue;
          if (options.useIgnoreFiles && dir.ignores.ignores(rel, true)) {
            counters.skippedIgnored++;
            continue;
          }
          if (excluded(rel)) {
            counters.skippedIgnored++;
            continue;
          }
          subdirs.push({ abs, rel, parentIgnores: dir.ignores });
          continue;
        }
        if (!ent.isFile()) continue; // sockets, fifos, devices: never read
        if ((options.useIgnoreFiles && dir.ignores.ignores(rel, false)) || excluded(rel)) {
          counters.skippedIgnored++;
          continue;
        }
        if (include !== undefined && !include(rel)) {
          counters.skippedIgnored++;
          continue;
        }
        yield { absPath: abs, path: display(rel, abs) };
      }
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }
}
