/**
 * A rule's whole pattern rewritten for Hyperscan's prefilter mode, as a *superset*: every input in
 * which RE2 finds a match of the rule, Hyperscan finds one of this pattern (in UTF-8 mode, no
 * Unicode properties, no flags). Hyperscan then answers "can this rule match here" for keyword
 * rules whose factor ("key", "token") is in many files: on the bench tree, nine such rules ran their
 * exact pattern on 640-1,960 files each and matched in none.
 *
 * Where the two dialects differ, the rewrite takes the wider side or gives up:
 * - `(?i)` is spelled out as classes, with RE2's non-ASCII folds of ASCII letters (the Kelvin sign
 *   for k, the long s for s); a case-insensitive class with other non-ASCII members gives up.
 * - `\s`, `\d`, `\w` and their negations become RE2's ASCII sets (PCRE's `\s` also takes \v).
 * - Anchors and word boundaries are dropped: a pattern without them matches more.
 * - Long counted repetitions lose their upper bound (Hyperscan's compile time grows with counts).
 * - Anything else not understood (Unicode properties, `\Q`, `\C`) gives up: the rule keeps its factors.
 */

/** Code point ranges [lo, hi], sorted, disjoint, without surrogates. */
type CharSet = [number, number][];

const MAX_CP = 0x10ffff;
/** Counted repetitions above this lose their upper bound (and a lower bound above it is lowered). */
const MAX_COUNT = 32;

class Unsupported extends Error {}

function normalize(ranges: CharSet): CharSet {
  const sorted = ranges
    .flatMap(([lo, hi]): CharSet => {
      // surrogates are no characters of UTF-8 input
      if (hi < 0xd800 || lo > 0xdfff) return [[lo, hi]];
      const out: CharSet = [];
      if (lo < 0xd800) out.push([lo, 0xd7ff]);
      if (hi > 0xdfff) out.push([0xe000, hi]);
      return out;
    })
    .sort((a, b) => a[0] - b[0]);
  const out: CharSet = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (const [lo, hi] of normalize(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return normalize(out);
}

const has = (set: CharSet, cp: number): boolean => set.some(([lo, hi]) => cp >= lo && cp <= hi);

/** RE2's case folds that cross between ASCII and the rest (its folding orbits k-K-U+212A, s-S-U+017F). */
const CROSS_FOLDS: [number, number[]][] = [
  [0x6b, [0x4b, 0x212a]],
  [0x4b, [0x6b, 0x212a]],
  [0x212a, [0x6b, 0x4b]],
  [0x73, [0x53, 0x17f]],
  [0x53, [0x73, 0x17f]],
  [0x17f, [0x73, 0x53]],
];

/**
 * `set` under (?i). `positive`: the folded set is used as is, so a missing fold would narrow it; a
 * class to be negated may fold less (its complement only grows).
 */
function caseFold(set: CharSet, positive: boolean): CharSet {
  const out: CharSet = [...set];
  for (const [lo, hi] of set) {
    for (let c = Math.max(lo, 0x41); c <= Math.min(hi, 0x7a); c++) {
      if (c <= 0x5a) out.push([c + 32, c + 32]);
      else if (c >= 0x61) out.push([c - 32, c - 32]);
    }
  }
  for (const [from, to] of CROSS_FOLDS) if (has(set, from)) for (const t of to) out.push([t, t]);
  const folded = normalize(out);
  if (positive) {
    // other non-ASCII letters have folds of their own, not spelled out here: only none of the
    // non-ASCII range (besides the cross folds) or all of it (closed under folding) is safe
    const nonAscii = normalize(folded.filter(([, hi]) => hi >= 0x80).map(([lo, hi]): [number, number] => [Math.max(lo, 0x80), hi]));
    const all = nonAscii.length === 2 && nonAscii[0]![0] === 0x80 && nonAscii[1]![1] === MAX_CP && nonAscii[0]![1] === 0xd7ff && nonAscii[1]![0] === 0xe000;
    const onlyCrossFolds = nonAscii.every(([lo, hi]) => lo === hi && (lo === 0x212a || lo === 0x17f));
    if (!all && !onlyCrossFolds) throw new Unsupported('case-insensitive class with non-ASCII members');
  }
  return folded;
}

const SPACE: CharSet = normalize([[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]]);
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = normalize([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
const NAMED: Record<string, CharSet> = { s: SPACE, d: DIGIT, w: WORD, S: complement(SPACE), D: complement(DIGIT), W: complement(WORD) };
// no '\0': RE2 reads `\012` as one octal escape; digit escapes give up
const SIMPLE_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b, a: 0x07 };

function hex(cp: number): string {
  return `\\x{${cp.toString(16)}}`;
}

function emitSet(set: CharSet): string {
  if (set.length === 0) throw new Unsupported('empty class');
  const one = set.length === 1 && set[0]![0] === set[0]![1] ? set[0]![0] : undefined;
  if (one !== undefined && /[A-Za-z0-9]/.test(String.fromCharCode(one)) && one < 0x80) return String.fromCharCode(one);
  const body = (s: CharSet): string => s.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
  // a set reaching the top is written as what it leaves out
  if (set[set.length - 1]![1] === MAX_CP) {
    const rest = complement(set);
    return rest.length === 0 ? '[\\x{0}-\\x{10ffff}]' : `[^${body(rest)}]`;
  }
  return `[${body(set)}]`;
}

class Rewriter {
  private i = 0;
  private ci = false;
  private dotAll = false;
  constructor(private readonly p: string) {}

  rewrite(): string {
    const out = this.alternation();
    if (this.i < this.p.length) throw new Unsupported('trailing');
    return out;
  }

  private alternation(): string {
    const branches = [this.sequence()];
    while (this.p[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.join('|');
  }

  private sequence(): string {
    let out = '';
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') out += this.quantified();
    return out;
  }

  private quantified(): string {
    const atom = this.atom();
    const q = this.quantifier();
    if (q === undefined || atom === '') return atom;
    return atom + q;
  }

  private quantifier(): string | undefined {
    const c = this.p[this.i];
    let q: string | undefined;
    if (c === '*' || c === '+' || c === '?') {
      q = c;
      this.i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.p.slice(this.i));
      if (!m) return undefined; // a literal '{' (RE2 reads it so)
      this.i += m[0].length;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      q = max <= MAX_COUNT ? (min === max ? `{${min}}` : `{${min},${max}}`) : `{${Math.min(min, MAX_COUNT)},}`;
    }
    if (q === undefined) return undefined;
    if (this.p[this.i] === '?') this.i++; // lazy: the same language
    return q;
  }

  private atom(): string {
    const c = this.p[this.i]!;
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    this.i++;
    if (c === '.') return this.dotAll ? emitSet([[0, MAX_CP]]) : emitSet(complement([[0x0a, 0x0a]]));
    if (c === '^' || c === '$') return '';
    if (c === ')' || c === '*' || c === '+' || c === '?') throw new Unsupported(c);
    const cp = this.p.codePointAt(this.i - 1)!;
    if (cp > 0xffff) this.i++;
    return this.literal(cp);
  }

  private literal(cp: number): string {
    const set: CharSet = [[cp, cp]];
    return emitSet(this.ci ? caseFold(set, true) : set);
  }

  private group(): string {
    this.i++; // (
    const outer = { ci: this.ci, dotAll: this.dotAll };
    if (this.p[this.i] === '?') {
      const rest = this.p.slice(this.i);
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
      const flags = /^\?([imsU]*)(?:-([imsU]*))?(:|\))/.exec(rest);
      if (named) this.i += named[0].length;
      else if (flags) {
        this.i += flags[0].length;
        const on = flags[1]!;
        const off = flags[2] ?? '';
        if (on.includes('i')) this.ci = true;
        if (off.includes('i')) this.ci = false;
        if (on.includes('s')) this.dotAll = true;
        if (off.includes('s')) this.dotAll = false;
        // (?i) alone: applies to the rest of the enclosing group
        if (flags[3] === ')') return '';
      } else throw new Unsupported('group');
    }
    const inner = this.alternation();
    if (this.p[this.i] !== ')') throw new Unsupported('unclosed');
    this.i++;
    this.ci = outer.ci;
    this.dotAll = outer.dotAll;
    return inner === '' ? '' : `(?:${inner})`;
  }

  private escape(): string {
    const n = this.p[this.i + 1];
    if (n === undefined) throw new Unsupported('escape');
    this.i += 2;
    const named = NAMED[n];
    if (named !== undefined) return emitSet(named);
    if ('bBAz'.includes(n)) return '';
    const simple = SIMPLE_ESCAPES[n];
    if (simple !== undefined) return this.literal(simple);
    if (n === 'x') return this.literal(this.hexEscape());
    if (/[A-Za-z0-9]/.test(n)) throw new Unsupported(`\\${n}`);
    return this.literal(n.codePointAt(0)!);
  }

  private hexEscape(): number {
    const m = /^\{([0-9a-fA-F]+)\}|^([0-9a-fA-F]{2})/.exec(this.p.slice(this.i));
    if (!m) throw new Unsupported('hex');
    this.i += m[0].length;
    return parseInt(m[1] ?? m[2]!, 16);
  }

  /** One member character of a class (after a backslash or not); undefined for a named set. */
  private classChar(members: CharSet): number | undefined {
    const c = this.p[this.i]!;
    if (c !== '\\') {
      const cp = this.p.codePointAt(this.i)!;
      this.i += cp > 0xffff ? 2 : 1;
      return cp;
    }
    const n = this.p[this.i + 1];
    if (n === undefined) throw new Unsupported('escape');
    this.i += 2;
    const named = NAMED[n];
    if (named !== undefined) {
      members.push(...named);
      return undefined;
    }
    const simple = SIMPLE_ESCAPES[n];
    if (simple !== undefined) return simple;
    if (n === 'x') return this.hexEscape();
    if (/[A-Za-z0-9]/.test(n)) throw new Unsupported(`\\${n}`);
    return n.codePointAt(0)!;
  }

  private charClass(): string {
    this.i++; // [
    let negated = false;
    if (this.p[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const members: CharSet = [];
    let first = true;
    while (this.i < this.p.length && (this.p[this.i] !== ']' || first)) {
      first = false;
      if (this.p[this.i] === '[' && this.p[this.i + 1] === ':') throw new Unsupported('posix class');
      const lo = this.classChar(members);
      if (lo === undefined) continue;
      if (this.p[this.i] === '-' && this.p[this.i + 1] !== ']' && this.i + 1 < this.p.length) {
        this.i++;
        const hi = this.classChar(members);
        if (hi === undefined || hi < lo) throw new Unsupported('range');
        members.push([lo, hi]);
        continue;
      }
      members.push([lo, lo]);
    }
    if (this.p[this.i] !== ']') throw new Unsupported('class');
    this.i++;
    let set = normalize(members);
    if (this.ci) set = caseFold(set, !negated);
    return emitSet(negated ? complement(set) : set);
  }
}

/**
 * The Hyperscan superset of an RE2 pattern (compile it with the UTF8 and PREFILTER flags), or
 * undefined when the rewrite cannot promise a superset.
 */
export function hyperscanSuperset(pattern: string): string | undefined {
  try {
    const out = new Rewriter(pattern).rewrite();
    return out === '' ? undefined : out;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
