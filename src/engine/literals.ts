/**
 * Extracts, from a rule's pattern, a few short "factors" at least one of which occurs in every match
 * (as RE2's and Hyperscan's own prefilters do). The multi-pattern pass then looks only for those
 * factors, which keeps its automaton small and fast however many rules there are; each candidate
 * rule then runs its exact pattern.
 *
 * A factor is a sequence of byte classes, not only a literal: `sk_[a-f0-9]{48}` gives `sk_[a-f0-9]`
 * repeated a few times, which "task_" and "disk_" in ordinary code do not match, so the exact pattern
 * runs only where a token may be. Case is kept where the pattern is case-sensitive.
 *
 * The analysis is conservative: anything it does not understand yields "no factor", and the rule
 * falls back to its widened pattern in the Set.
 */

import { CROSS_FOLD_TARGETS, parseRe2, Re2SyntaxUnsupported, setSize, type CharSet, type Re2Node } from './re2-syntax.js';

/** One position of a factor: the characters it accepts, in code point order. */
type Pos = string;
/** A factor: consecutive positions. */
type Seq = Pos[];

interface Info {
  /** The node matches exactly one of these sequences (undefined: unknown or too many). */
  exact?: Seq[];
  /** Every match starts with one of these. */
  pre?: Seq[];
  /** Every match ends with one of these. */
  suf?: Seq[];
  /** Every match contains one of these. */
  req?: Seq[];
}

/** Most alternatives a factor set may have. */
const MAX_SET = 64;
/** Longest sequence tracked while multiplying out; factors themselves are windows of it. */
const MAX_TRACKED = 256;
/** Positions of a factor in the Set: enough to be selective, few enough to keep the automaton small. */
const MAX_FACTOR = 16;
/** Widest class a position may be ([A-Za-z0-9_-] is 64); wider ones are "anything". */
const MAX_CLASS = 64;
/** Weakest factor worth using (bits): two case-insensitive letters ("cf") score 10.98 and are refused. */
const MIN_BITS = 11;
/** What a common key word is worth however long it is: it is in most config files. */
const COMMON_WORD_BITS = 11;
/** Characters of ordinary text, for a position's selectivity. */
const ALPHABET = 90;

/**
 * Words found in almost every source file: as the only factor of a rule they select it everywhere,
 * so a rarer factor of the same rule (a provider name, a prefix) is preferred.
 */
const COMMON_LIST = 'key secret token password passwd pass pwd auth api access client private credential credentials bearer user username login session id app url http https host path pattern server data source'.split(' ');
const COMMON = new Set(COMMON_LIST);

function isCommonWord(core: string): boolean {
  return COMMON.has(core) || COMMON_LIST.some((w) => (core.length <= w.length + 1 && core.includes(w)) || (core.length >= 3 && w.includes(core)));
}

/**
 * A position as scored: without RE2's non-ASCII case folds of k and s (the Kelvin sign, the long s),
 * which (?i) adds to them and which are too rare to change how selective a position is.
 */
function scored(p: Pos): Pos {
  // called in the scoring's inner loops: most positions have neither
  if (!p.includes('\u212a') && !p.includes('\u017f')) return p;
  let out = '';
  for (const c of p) if (!CROSS_FOLD_TARGETS.has(c.codePointAt(0)!)) out += c;
  return out === '' ? p : out;
}

/** The lower-case letter or digit a position stands for, when it is one (either case of it). */
function wordChar(pos: Pos): string | undefined {
  const p = scored(pos);
  if (p.length === 1) return /[A-Za-z0-9]/.test(p) ? p.toLowerCase() : undefined;
  if (p.length === 2 && p[0]!.toLowerCase() === p[1]!.toLowerCase() && p[0] !== p[1]) return p[1]!.toLowerCase();
  return undefined;
}

/** Punctuation that separates words in code and config: in almost every line, so worth little. */
const COMMON_PUNCTUATION = new Set([...' -._/:="\'(),;\n\t']);
const COMMON_PUNCTUATION_BITS = 3;
/**
 * What classes add to a factor at most: runs of hex or base64 are everywhere in lock files and
 * hashes, so a factor must owe most of its selectivity to its characters.
 */
const MAX_CLASS_BITS = 16;

/**
 * Bits of one position. Lower-case letters are far more common in code than capitals, so a
 * case-sensitive "at" (in every other identifier) is worth less than "AC".
 */
function posBits(pos: Pos): number {
  const p = scored(pos);
  if (p.length === 1 && COMMON_PUNCTUATION.has(p)) return COMMON_PUNCTUATION_BITS;
  const uniform = Math.max(0, Math.log2(ALPHABET / p.length));
  if (p.length === 1 && p >= 'a' && p <= 'z') return uniform - 1;
  if (p.length === 1 && p >= 'A' && p <= 'Z') return uniform + 1;
  return uniform;
}

/**
 * How selective a factor is, in bits; runs of letters that spell a common word count little, and
 * classes add at most MAX_CLASS_BITS (unless `capClasses` is false).
 */
function bits(seq: Seq, capClasses = true): number {
  let total = 0;
  let classBits = 0;
  let i = 0;
  while (i < seq.length) {
    if (wordChar(seq[i]!) === undefined) {
      if (scored(seq[i]!).length > 1) classBits += posBits(seq[i]!);
      else total += posBits(seq[i]!);
      i++;
      continue;
    }
    let word = '';
    let wordBits = 0;
    while (i < seq.length && wordChar(seq[i]!) !== undefined) {
      word += wordChar(seq[i]!)!;
      wordBits += posBits(seq[i]!);
      i++;
    }
    total += isCommonWord(word) ? Math.min(wordBits, COMMON_WORD_BITS) : wordBits;
  }
  return total + (capClasses ? Math.min(classBits, MAX_CLASS_BITS) : classBits);
}

/** A position that starts a factor well: a character, its two cases or a small class ([MNO]), not a run class. */
const isAnchorPos = (p: Pos): boolean => scored(p).length <= 4;

/** Bits a factor needs before any class position: classes after a weak start ("at") keep the automaton busy. */
const CLASS_AFTER_BITS = 11;
/** Class positions a factor may have: each is a state of the automaton for every literal it follows. */
const MAX_CLASS_POSITIONS = 10;

/** Classes up to this wide ([0-9], [AEIMQUYcgk]) follow any start; wider ones need a selective start. */
const NARROW_CLASS = 10;

/**
 * The factor that starts at `s`: its characters and narrow classes, and wide classes only once the
 * factor is selective (`strict`), since a wide class after a weak start keeps the automaton busy.
 */
function windowAt(seq: Seq, s: number, strict: boolean): Seq {
  const w: Seq = [];
  let classes = 0;
  for (let i = s; i < seq.length && w.length < MAX_FACTOR; i++) {
    const p = seq[i]!;
    if (scored(p).length > NARROW_CLASS && (++classes > MAX_CLASS_POSITIONS || (strict && bits(w, false) < CLASS_AFTER_BITS))) break;
    w.push(p);
  }
  return w;
}

/**
 * The most selective factor inside `seq`. It starts on a character or a small class: a factor that
 * starts with a run class would keep the automaton tracking every run of that class.
 */
function bestWindow(seq: Seq, strict = true): Seq | undefined {
  return bestWindowAt(seq, strict)?.window;
}

/** bestWindow, with the position in `seq` where the window starts. */
function bestWindowAt(seq: Seq, strict: boolean): { window: Seq; offset: number } | undefined {
  let pick: { window: Seq; offset: number } | undefined;
  let pickBits = -1;
  for (let s = 0; s < seq.length; s++) {
    if (!isAnchorPos(seq[s]!)) continue;
    const w = windowAt(seq, s, strict);
    const b = bits(w);
    if (b > pickBits) {
      pick = { window: w, offset: s };
      pickBits = b;
    }
  }
  return pick;
}

/** Most UTF-8 bytes one character of a position takes. */
function posBytes(p: Pos): number {
  let most = 1;
  for (const c of p) most = Math.max(most, Buffer.byteLength(c));
  return most;
}

/** Scores already computed: `best` compares the same sets many times. */
const scores = { strict: new WeakMap<Seq[], number>(), loose: new WeakMap<Seq[], number>() };

/** How selective a factor set is: its weakest member's best window (-1: none usable). */
function score(set: Seq[] | undefined, strict = true): number {
  if (!set || set.length === 0) return -1;
  const memo = strict ? scores.strict : scores.loose;
  const known = memo.get(set);
  if (known !== undefined) return known;
  let min = Infinity;
  for (const s of set) {
    const w = bestWindow(s, strict);
    min = Math.min(min, w === undefined ? 0 : bits(w));
  }
  memo.set(set, min);
  return min;
}

function best(...sets: (Seq[] | undefined)[]): Seq[] | undefined {
  let pick: Seq[] | undefined;
  for (const s of sets) {
    const a = score(s);
    const b = score(pick);
    if (a > b || (a === b && s && pick && s.length < pick.length)) pick = s;
  }
  return score(pick) > 0 ? pick : undefined;
}

const key = (s: Seq): string => s.join('\u0000') + '\u0001' + s.length;
function dedupe(a: Seq[]): Seq[] {
  const seen = new Map<string, Seq>();
  for (const s of a) seen.set(key(s), s);
  return [...seen.values()];
}

/** Every concatenation of one of `a` with one of `b`, or undefined when there would be too many. */
function product(a: Seq[], b: Seq[]): Seq[] | undefined {
  if (a.length * b.length > MAX_SET) return undefined;
  const out: Seq[] = [];
  for (const x of a) for (const y of b) out.push(x.length + y.length > MAX_TRACKED ? [...x, ...y].slice(0, MAX_TRACKED) : [...x, ...y]);
  return dedupe(out);
}

function power(a: Seq[], n: number): Seq[] | undefined {
  let out: Seq[] | undefined = [[]];
  for (let k = 0; k < n && out; k++) {
    out = product(out, a);
    if (out && out.every((s) => s.length >= MAX_TRACKED)) break;
  }
  return out;
}

const unionAll = (sets: (Seq[] | undefined)[]): Seq[] | undefined => {
  const out: Seq[] = [];
  for (const s of sets) {
    if (!s) return undefined;
    out.push(...s);
  }
  const d = dedupe(out);
  return d.length <= MAX_SET ? d : undefined;
};

const startOf = (i: Info): Seq[] | undefined => i.exact ?? i.pre;
const endOf = (i: Info): Seq[] | undefined => i.exact ?? i.suf;

function info(parts: Info): Info {
  const out: Info = {};
  if (parts.exact) out.exact = parts.exact;
  if (parts.pre) out.pre = parts.pre;
  if (parts.suf) out.suf = parts.suf;
  if (parts.req) out.req = parts.req;
  return out;
}

function alternate(branches: Info[]): Info {
  const allExact = branches.every((b) => b.exact !== undefined);
  const req: Seq[] = [];
  let reqOk = true;
  for (const b of branches) {
    const r = best(b.exact, b.pre, b.suf, b.req);
    if (!r) {
      reqOk = false;
      break;
    }
    req.push(...r);
  }
  return info({
    exact: allExact ? unionAll(branches.map((b) => b.exact)) : undefined,
    pre: unionAll(branches.map(startOf)),
    suf: unionAll(branches.map(endOf)),
    req: reqOk && req.length <= MAX_SET ? dedupe(req) : undefined,
  } as Info);
}

function concat(items: Info[]): Info {
  const candidates: (Seq[] | undefined)[] = [];
  let run: Seq[] | undefined = [[]];
  let exact = true;
  let pre: Seq[] | undefined;
  for (const it of items) {
    candidates.push(it.req, it.pre, it.suf);
    if (it.exact) {
      const next: Seq[] | undefined = run ? product(run, it.exact) : undefined;
      if (next) {
        run = next;
        continue;
      }
      // too many alternatives to multiply out: keep what we have, start again from this item
      candidates.push(run);
      if (exact) pre = run;
      exact = false;
      run = it.exact;
      continue;
    }
    // the run ends here, extended by how this item starts; the next run begins with how it ends
    const closing = run && startOf(it) ? (product(run, startOf(it)!) ?? run) : run;
    candidates.push(closing);
    if (exact) pre = closing;
    exact = false;
    run = endOf(it);
  }
  candidates.push(run);
  if (exact) return info({ exact: run, req: best(...candidates) } as Info);
  return info({ pre, suf: run, req: best(...candidates) } as Info);
}

/** A character node as a factor position: its characters in code point order, unless too many. */
function posOf(set: CharSet): Pos | undefined {
  if (setSize(set) > MAX_CLASS) return undefined;
  let p = '';
  for (const [lo, hi] of set) for (let c = lo; c <= hi; c++) p += String.fromCodePoint(c);
  return p;
}

/** What every match of a node starts with, ends with, contains (see Info). */
function infoOf(n: Re2Node): Info {
  switch (n.kind) {
    case 'empty':
      return { exact: [[]] };
    case 'chars': {
      // a class that may miss some of RE2's case folds is not a factor (it could miss a match)
      const pos = n.foldsUnknown ? undefined : posOf(n.set);
      return pos === undefined ? {} : { exact: [[pos]] };
    }
    case 'concat':
      return concat(n.items.map(infoOf));
    case 'alt':
      return alternate(n.branches.map(infoOf));
    case 'repeat':
      return repeated(infoOf(n.node), n.min, n.max);
  }
}

function repeated(atom: Info, min: number, max: number): Info {
  if (min === 0 && max === 1 && atom.exact) {
    const opt = unionAll([atom.exact, [[]]]);
    return opt ? { exact: opt } : {};
  }
  if (min === 0) return {};
  if (min === max && atom.exact) {
    const rep = power(atom.exact, min);
    if (rep) return { exact: rep };
  }
  // X{m,n}: a match starts and ends with X repeated m times (as far as that is tracked)
  const edge = atom.exact ? power(atom.exact, Math.min(min, MAX_FACTOR)) : undefined;
  return info({ pre: edge ?? atom.pre, suf: edge ?? atom.suf, req: best(atom.exact, atom.req, atom.pre, atom.suf) } as Info);
}

/** The factors one of which every match contains, or undefined when none useful can be proven. */
export function requiredFactors(pattern: string): Seq[] | undefined {
  return analyzeFactors(pattern)?.factors;
}

export interface FactorAnalysis {
  factors: Seq[];
  /**
   * When every match begins with one of the sequences the factors were taken from: at most how
   * many bytes lie from a match's start to the end of its factor. Any match then starts at or after
   * (end of the first factor occurrence in the input) - reach, so the exact pattern may start there.
   */
  reach?: number;
}

export function analyzeFactors(pattern: string): FactorAnalysis | undefined {
  let r: Info;
  try {
    r = infoOf(parseRe2(pattern));
  } catch (e) {
    if (e instanceof Re2SyntaxUnsupported) return undefined;
    throw e;
  }
  const set = best(r.exact, r.pre, r.suf, r.req);
  if (!set) return undefined;
  // A pattern with no selective start (mailgun's hex-hex-hex) may still take wide classes after a
  // weak one: that is still a far smaller automaton than its whole widened pattern.
  const strict = score(set) >= MIN_BITS;
  if (!strict && score(set, false) < MIN_BITS) return undefined;
  const windows: Seq[] = [];
  // `best` returns one of its arguments: the set of sequences every match starts with, or not
  const starts = set === r.exact || set === r.pre;
  let reach = 0;
  for (const s of set) {
    const w = bestWindowAt(s, strict);
    if (!w) return undefined;
    windows.push(w.window);
    let bytes = 0;
    for (let i = 0; i < w.offset + w.window.length; i++) bytes += posBytes(s[i]!);
    reach = Math.max(reach, bytes);
  }
  const factors = dedupe(windows).sort((a, b) => (key(a) < key(b) ? -1 : 1));
  return starts ? { factors, reach } : { factors };
}

function escapeChar(c: string): string {
  if (/[A-Za-z0-9_]/.test(c)) return c;
  const cp = c.codePointAt(0)!;
  if (cp < 0x20 || cp > 0x7e) return `\\x{${cp.toString(16)}}`;
  return `\\${c}`;
}

/** RE2 source of one factor: single characters as themselves, classes as classes. */
export function factorSource(seq: Seq): string {
  return seq.map((p) => (p.length === 1 ? escapeChar(p) : `[${classBody(p)}]`)).join('');
}

/** A class's members with runs of three or more written as ranges: `0-9a-f`. */
function classBody(p: Pos): string {
  const cps = [...p].map((c) => c.codePointAt(0)!);
  let out = '';
  for (let i = 0; i < cps.length; ) {
    let j = i;
    while (j + 1 < cps.length && cps[j + 1] === cps[j]! + 1) j++;
    const lo = String.fromCodePoint(cps[i]!);
    const hi = String.fromCodePoint(cps[j]!);
    if (j - i >= 2) out += `${escapeChar(lo)}-${escapeChar(hi)}`;
    else for (let k = i; k <= j; k++) out += escapeChar(String.fromCodePoint(cps[k]!));
    i = j + 1;
  }
  return out;
}

/** How a factor prefilter pattern starts (a widened pattern never does). */
export const LITERAL_PREFILTER_START = '(?-i:';

/**
 * From one analysis of a rule's pattern: its pattern for the multi-pattern pass (its required
 * factors, else the widened pattern) and its factor reach (see FactorAnalysis; -1 when its matches
 * need not begin with a factor).
 */
export function prefilterAndReach(pattern: string, widened: string): { prefilter: string; reach: number } {
  const a = analyzeFactors(pattern);
  if (!a) return { prefilter: widened, reach: -1 };
  return { prefilter: `${LITERAL_PREFILTER_START}${a.factors.map(factorSource).join('|')})`, reach: a.reach ?? -1 };
}

/** Changes whenever the analysis (or superset.ts) does: cached prefilters from another version are recomputed. */
export const PREFILTER_VERSION = 8;
