import RE2 from 're2';
import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.js';
import { nativeAddon, type NativeAddon, type NativeDatabase } from '../native/addon.js';

/**
 * The multi-pattern pass: which of many patterns occur in an input. Two engines answer it:
 * Hyperscan (native addon, when built), whose SIMD literal search ran the rules' factors at 1.2 GB/s
 * a core on the bench tree, and RE2::Set, at 0.5 GB/s. Both give the same answer for the patterns
 * Hyperscan is given (see `hyperscanExact`); RE2 takes the rest, and any input that is not UTF-8.
 * Hyperscan may instead run a wider pattern of the rule (see `superset`), which finds fewer
 * candidates: the answer is then a subset of RE2's that still holds every input the rule can match.
 */
export interface MultiPatternMatcher {
  /**
   * Indices into the pattern list of the patterns found in `buf`, ascending. With `ends` (room for
   * every pattern), ends[k] is set to where the first match of the k-th found pattern ends, or
   * to 0 when the engine does not tell (RE2).
   */
  match(buf: Uint8Array, ends?: Uint32Array): number[];
  /**
   * Whether a reported end of pattern `index` is where its own `source` first matched; false when
   * the engine ran its `superset` instead (whose match may end anywhere in the rule's match).
   */
  reportsSourceEnd(index: number): boolean;
  readonly engine: 'hyperscan' | 're2';
  /** The serialized Hyperscan database and its store key, for other threads to load instead of compiling. */
  readonly hyperscanDatabase?: StoredDatabase;
}

export interface StoredDatabase {
  key: string;
  bytes: Uint8Array;
}

export interface MultiPattern {
  source: string;
  /**
   * Hyperscan (UTF-8 mode, no Unicode properties) matches exactly what RE2 does: the pattern is
   * built of explicit ASCII-or-literal classes, with no case folding, `\s`, `\S` or `.`, whose
   * meanings differ at the edges (RE2's `(?i)k` matches the Kelvin sign; PCRE's `\s` takes \v).
   */
  hyperscanExact: boolean;
  /**
   * A pattern that matches wherever the rule itself can (superset.ts), for Hyperscan's prefilter
   * mode: inputs where only `source` (a rule's factor) occurs are no longer candidates. Refused by
   * Hyperscan, it falls back to `source`.
   */
  superset?: string;
}

/** Where compiled Hyperscan databases are kept between runs (and handed to worker threads). */
export interface HyperscanStore {
  get(key: string): Uint8Array | undefined;
  put(key: string, bytes: Uint8Array): void;
}

/** One RE2 Set and the pattern indices it was built from. */
interface Re2Group {
  set: InstanceType<typeof RE2.Set>;
  indices: number[];
}

/**
 * One RE2 Set for all patterns when it fits RE2's memory budget; otherwise halves, recursively, so
 * a very large rule pack costs a few passes instead of failing.
 */
function buildRe2Groups(patterns: readonly string[], indices: number[]): Re2Group[] {
  if (indices.length === 0) return [];
  try {
    return [{ set: new RE2.Set(indices.map((i) => patterns[i]!)), indices }];
  } catch (e) {
    if (indices.length === 1) {
      throw new UserError(`rule pattern too large for the multi-pattern pass: ${patterns[indices[0]!]!.slice(0, 80)} (${(e as Error).message})`);
    }
    const mid = indices.length >> 1;
    return [...buildRe2Groups(patterns, indices.slice(0, mid)), ...buildRe2Groups(patterns, indices.slice(mid))];
  }
}

/** RE2::Set over some of the patterns, in one or more groups (see `partition`). */
class Re2Matcher implements MultiPatternMatcher {
  readonly engine = 're2';
  private readonly groups: Re2Group[];

  reportsSourceEnd(): boolean {
    return true; // it reports none (0)
  }

  constructor(patterns: readonly string[], partition: number[][]) {
    this.groups = partition.flatMap((indices) => buildRe2Groups(patterns, indices));
  }

  match(buf: Uint8Array, ends?: Uint32Array): number[] {
    const out: number[] = [];
    ends?.fill(0);
    for (const g of this.groups) {
      let hits: number[];
      try {
        hits = g.set.match(buf as Buffer);
      } catch {
        // the Set's DFA ran out of memory on this input: every pattern of the group is a candidate,
        // slower on this one input, never a missed secret
        hits = g.indices.map((_, i) => i);
      }
      for (const h of hits) out.push(g.indices[h]!);
    }
    return this.groups.length > 1 ? out.sort((a, b) => a - b) : out;
  }
}

/** Hyperscan over the exact-safe patterns; RE2 for the others and for input that is not UTF-8. */
class HyperscanMatcher implements MultiPatternMatcher {
  readonly engine = 'hyperscan';
  private everything: Re2Matcher | undefined;

  constructor(
    private readonly db: NativeDatabase,
    readonly hyperscanDatabase: StoredDatabase,
    /** Patterns Hyperscan does not take, or undefined when it takes them all. */
    private readonly rest: Re2Matcher | undefined,
    /** Every pattern on RE2, built on first use (the first input that is not UTF-8). */
    private readonly allOnRe2: () => Re2Matcher,
    /** Patterns run as their superset. */
    private readonly supersets: ReadonlySet<number>,
  ) {}

  reportsSourceEnd(index: number): boolean {
    return !this.supersets.has(index);
  }

  match(buf: Uint8Array, ends?: Uint32Array): number[] {
    const found = this.db.match(buf, ends);
    if (found === null) return (this.everything ??= this.allOnRe2()).match(buf, ends);
    if (this.rest === undefined) return found;
    const more = this.rest.match(buf);
    if (more.length === 0) return found;
    // ends unknown for the patterns RE2 found (0: search from the start)
    const merged = [...found.map((id, k) => [id, ends?.[k] ?? 0] as const), ...more.map((id) => [id, 0] as const)].sort((a, b) => a[0] - b[0]);
    merged.forEach(([, end], k) => ends !== undefined && (ends[k] = end));
    return merged.map(([id]) => id);
  }

  /** The database itself, for the native file batch (src/workers/task.ts). */
  get native(): NativeDatabase {
    return this.db;
  }
}

/** The native database behind a matcher, when it has one. */
export function nativeDatabaseOf(m: MultiPatternMatcher): NativeDatabase | undefined {
  return m instanceof HyperscanMatcher ? m.native : undefined;
}

/** Per-process databases by key: tests and the inline scanner compile the same rules many times. */
const compiledInProcess = new Map<string, Uint8Array>();

function hyperscanKey(addon: NativeAddon, patterns: string[], flags: number[], ids: number[]): string {
  const h = createHash('sha256').update(addon.version()).update(`\0${process.arch}\0`);
  patterns.forEach((p, k) => h.update(`${ids[k]}\0${flags[k]}\0${p}\0`));
  return h.digest('hex').slice(0, 32);
}

interface CompiledHyperscan {
  stored: StoredDatabase;
  /** Pattern indices the database covers. */
  ids: number[];
  /** Those of them it runs as their superset. */
  supersets: Set<number>;
}

/**
 * Compiles the Hyperscan-safe patterns (each as its superset where it has one); a pattern it
 * refuses falls back from superset to source, then to RE2, and the rest compile again. Returns
 * the serialized database and the pattern indices it covers.
 */
function compileHyperscan(addon: NativeAddon, patterns: readonly MultiPattern[], store: HyperscanStore | undefined, reuse: boolean): CompiledHyperscan | undefined {
  let ids = patterns.map((_, i) => i).filter((i) => patterns[i]!.hyperscanExact || patterns[i]!.superset !== undefined);
  const supersets = new Set(ids.filter((i) => patterns[i]!.superset !== undefined));
  const exact = addon.flags.SINGLEMATCH | addon.flags.UTF8;
  const wider = exact | addon.flags.PREFILTER;
  for (;;) {
    if (ids.length === 0) return undefined;
    const sources = ids.map((i) => (supersets.has(i) ? patterns[i]!.superset! : patterns[i]!.source));
    const flags = ids.map((i) => (supersets.has(i) ? wider : exact));
    const key = hyperscanKey(addon, sources, flags, ids);
    const known = reuse ? (compiledInProcess.get(key) ?? store?.get(key)) : undefined;
    if (known !== undefined) {
      compiledInProcess.set(key, known);
      return { stored: { key, bytes: known }, ids, supersets };
    }
    try {
      const bytes = addon.compile(sources, flags, ids);
      compiledInProcess.set(key, bytes);
      store?.put(key, bytes);
      return { stored: { key, bytes }, ids, supersets };
    } catch (e) {
      const at = (e as { expression?: number }).expression;
      if (typeof at !== 'number' || at < 0 || at >= ids.length) return undefined; // not one pattern's fault: RE2 only
      const refused = ids[at]!;
      if (supersets.delete(refused) && patterns[refused]!.hyperscanExact) continue;
      ids = ids.filter((_, k) => k !== at);
    }
  }
}

export interface MatcherOptions {
  store?: HyperscanStore;
  /** 're2': RE2 only, even when the addon is built (comparisons, tests); default: the fastest. */
  engine?: 'auto' | 're2';
  /** Patterns RE2 runs in groups of their own (slow patterns kept out of the fast automaton). */
  re2Partition?: (indices: number[]) => number[][];
}

/** The fastest matcher available for these patterns. */
export function buildMatcher(patterns: readonly MultiPattern[], options: MatcherOptions = {}): MultiPatternMatcher {
  const sources = patterns.map((p) => p.source);
  const partition = options.re2Partition ?? ((indices: number[]) => [indices]);
  const all = patterns.map((_, i) => i);
  const addon = options.engine === 're2' ? undefined : nativeAddon();
  if (addon === undefined) return new Re2Matcher(sources, partition(all));
  let compiled: CompiledHyperscan | undefined;
  let db: NativeDatabase | undefined;
  // a stored database that does not load (damaged, or from another CPU) is compiled afresh
  for (const reuse of [true, false]) {
    compiled = compileHyperscan(addon, patterns, options.store, reuse);
    if (compiled === undefined) return new Re2Matcher(sources, partition(all));
    try {
      db = new addon.Database(compiled.stored.bytes, patterns.length);
      break;
    } catch {
      db = undefined;
    }
  }
  if (compiled === undefined || db === undefined) return new Re2Matcher(sources, partition(all));
  const covered = new Set(compiled.ids);
  const others = all.filter((i) => !covered.has(i));
  const rest = others.length === 0 ? undefined : new Re2Matcher(sources, partition(others));
  return new HyperscanMatcher(db, compiled.stored, rest, () => new Re2Matcher(sources, partition(all)), compiled.supersets);
}
