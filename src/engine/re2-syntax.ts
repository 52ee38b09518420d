/**
 * RE2's pattern syntax, read into a small tree that the pattern analyses share: the factors every
 * match contains (literals.ts) and the superset Hyperscan runs (superset.ts). One reading means one
 * answer to RE2's edge cases: `(?i)` folds k into the Kelvin sign and s into the long s, `\s` is
 * [\t\n\f\r ] without \v, `\012` is an octal escape.
 *
 * Anything not understood throws Re2SyntaxUnsupported; the analyses then fall back to something
 * that needs no understanding (a widened pattern, the rule's factors).
 */

/** Code point ranges [lo, hi], sorted, disjoint, without surrogates (no characters of UTF-8 input). */
export type CharSet = [number, number][];

export type Re2Node =
  /**
   * One character of `set`. `foldsUnknown`: under (?i) with non-ASCII letters whose case folds
   * `set` does not hold, so it may be narrower than what RE2 matches.
   */
  | { kind: 'chars'; set: CharSet; foldsUnknown: boolean }
  /** Matches the empty string: an assertion (^ $ \b \B \A \z) or a group of flags only. */
  | { kind: 'empty' }
  | { kind: 'concat'; items: Re2Node[] }
  | { kind: 'alt'; branches: Re2Node[] }
  /** `max` may be Infinity; laziness is dropped (the same language). */
  | { kind: 'repeat'; node: Re2Node; min: number; max: number };

export class Re2SyntaxUnsupported extends Error {}

export const MAX_CP = 0x10ffff;

export function normalize(ranges: CharSet): CharSet {
  const sorted = ranges
    .flatMap(([lo, hi]): CharSet => {
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

export function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (const [lo, hi] of normalize(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return normalize(out);
}

/** Characters in a set. */
export function setSize(set: CharSet): number {
  let n = 0;
  for (const [lo, hi] of set) n += hi - lo + 1;
  return n;
}

const has = (set: CharSet, cp: number): boolean => set.some(([lo, hi]) => cp >= lo && cp <= hi);

/**
 * RE2's case folds between ASCII and other characters: its folding orbits k-K-U+212A and
 * s-S-U+017F are the only ones (a test checks every code point).
 */
export const CROSS_FOLDS: readonly (readonly [number, readonly number[]])[] = [
  [0x6b, [0x4b, 0x212a]],
  [0x4b, [0x6b, 0x212a]],
  [0x212a, [0x6b, 0x4b]],
  [0x73, [0x53, 0x17f]],
  [0x53, [0x73, 0x17f]],
  [0x17f, [0x73, 0x53]],
];
export const CROSS_FOLD_TARGETS: ReadonlySet<number> = new Set([0x212a, 0x17f]);

/** Characters outside ASCII (a set of them that covers this much is closed under case folding). */
const NON_ASCII_SIZE = setSize(normalize([[0x80, MAX_CP]]));

/** `set` under (?i): ASCII letters in both cases, with RE2's cross folds; other letters as they are. */
function caseFold(set: CharSet): { set: CharSet; foldsUnknown: boolean } {
  const out: CharSet = [...set];
  for (const [lo, hi] of set) {
    for (let c = Math.max(lo, 0x41); c <= Math.min(hi, 0x7a); c++) {
      if (c <= 0x5a) out.push([c + 32, c + 32]);
      else if (c >= 0x61) out.push([c - 32, c - 32]);
    }
  }
  for (const [from, to] of CROSS_FOLDS) if (has(set, from)) for (const t of to) out.push([t, t]);
  const folded = normalize(out);
  // other non-ASCII letters have folds of their own, not spelled out here: only none of the
  // non-ASCII range (besides the cross folds) or all of it (closed under folding) is exact
  const nonAscii = normalize(folded.filter(([, hi]) => hi >= 0x80).map(([lo, hi]): [number, number] => [Math.max(lo, 0x80), hi]));
  const all = setSize(nonAscii) === NON_ASCII_SIZE;
  const onlyCrossFolds = nonAscii.every(([lo, hi]) => lo === hi && CROSS_FOLD_TARGETS.has(lo));
  return { set: folded, foldsUnknown: !all && !onlyCrossFolds };
}

const SPACE: CharSet = normalize([[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]]);
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = normalize([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
const ANY: CharSet = normalize([[0, MAX_CP]]);
/** RE2's Perl classes (ASCII only), and whether the escape is their negation (\S, \D, \W). */
const NAMED: Record<string, { set: CharSet; negated: boolean }> = {
  s: { set: SPACE, negated: false },
  d: { set: DIGIT, negated: false },
  w: { set: WORD, negated: false },
  S: { set: SPACE, negated: true },
  D: { set: DIGIT, negated: true },
  W: { set: WORD, negated: true },
};
// no '\0': RE2 reads `\012` as one octal escape (a newline); digit escapes are not read here
const SIMPLE_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b, a: 0x07 };

const EMPTY: Re2Node = { kind: 'empty' };

class Parser {
  private i = 0;
  private ci = false;
  private dotAll = false;
  constructor(private readonly p: string) {}

  parse(): Re2Node {
    const out = this.alternation();
    if (this.i < this.p.length) throw new Re2SyntaxUnsupported('trailing');
    return out;
  }

  private alternation(): Re2Node {
    const branches = [this.sequence()];
    while (this.p[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0]! : { kind: 'alt', branches };
  }

  private sequence(): Re2Node {
    const items: Re2Node[] = [];
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') items.push(this.quantified());
    return items.length === 1 ? items[0]! : { kind: 'concat', items };
  }

  private quantified(): Re2Node {
    const node = this.atom();
    const q = this.quantifier();
    return q === undefined ? node : { kind: 'repeat', node, min: q[0], max: q[1] };
  }

  private quantifier(): [number, number] | undefined {
    const c = this.p[this.i];
    let r: [number, number] | undefined;
    if (c === '*') r = [0, Infinity];
    else if (c === '+') r = [1, Infinity];
    else if (c === '?') r = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.p.slice(this.i));
      if (!m) return undefined; // a literal '{' (RE2 reads it so)
      this.i += m[0].length - 1;
      const min = Number(m[1]);
      r = [min, m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])];
    }
    if (r === undefined) return undefined;
    this.i++;
    if (this.p[this.i] === '?') this.i++; // lazy: the same language
    return r;
  }

  private atom(): Re2Node {
    const c = this.p[this.i]!;
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    if (c === ')' || c === '*' || c === '+' || c === '?') throw new Re2SyntaxUnsupported(c);
    this.i++;
    if (c === '.') return this.chars(this.dotAll ? ANY : complement([[0x0a, 0x0a]]), false);
    if (c === '^' || c === '$') return EMPTY;
    const cp = this.p.codePointAt(this.i - 1)!;
    if (cp > 0xffff) this.i++;
    return this.chars([[cp, cp]], true);
  }

  /** A character node; `folds`: the characters take (?i) (a negated class or `.` does not). */
  private chars(set: CharSet, folds: boolean): Re2Node {
    if (folds && this.ci) return { kind: 'chars', ...caseFold(set) };
    return { kind: 'chars', set: normalize(set), foldsUnknown: false };
  }

  private group(): Re2Node {
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
        if (flags[3] === ')') return EMPTY;
      } else throw new Re2SyntaxUnsupported('group');
    }
    const inner = this.alternation();
    if (this.p[this.i] !== ')') throw new Re2SyntaxUnsupported('unclosed');
    this.i++;
    this.ci = outer.ci;
    this.dotAll = outer.dotAll;
    return inner;
  }

  private escape(): Re2Node {
    const n = this.p[this.i + 1];
    if (n === undefined) throw new Re2SyntaxUnsupported('escape');
    this.i += 2;
    const named = NAMED[n];
    if (named !== undefined) return this.perlClass(named);
    if ('bBAz'.includes(n)) return EMPTY;
    if (n === 'p' || n === 'P') {
      this.unicodeClassName();
      return this.chars(ANY, false); // a Unicode class: any character, as far as these analyses go
    }
    const simple = SIMPLE_ESCAPES[n];
    if (simple !== undefined) return this.chars([[simple, simple]], true);
    if (n === 'x') {
      const cp = this.hexEscape();
      return this.chars([[cp, cp]], true);
    }
    if (/[A-Za-z0-9]/.test(n)) throw new Re2SyntaxUnsupported(`\\${n}`);
    const cp = n.codePointAt(0)!;
    return this.chars([[cp, cp]], true);
  }

  /**
   * \w, \d, \s and their negations. Under (?i) RE2 folds them too: `(?i)\w` takes the Kelvin sign
   * and the long s, and `(?i)\W` leaves them out.
   */
  private perlClass(named: { set: CharSet; negated: boolean }): Re2Node {
    if (!named.negated) return this.chars(named.set, true);
    return this.chars(complement(this.ci ? caseFold(named.set).set : named.set), false);
  }

  /** Skips the name after \p or \P: one letter, or {Name}. */
  private unicodeClassName(): void {
    if (this.p[this.i] === '{') {
      const end = this.p.indexOf('}', this.i);
      if (end < 0) throw new Re2SyntaxUnsupported('unicode class');
      this.i = end + 1;
    } else if (this.i < this.p.length) this.i++;
    else throw new Re2SyntaxUnsupported('unicode class');
  }

  private hexEscape(): number {
    const m = /^\{([0-9a-fA-F]+)\}|^([0-9a-fA-F]{2})/.exec(this.p.slice(this.i));
    if (!m) throw new Re2SyntaxUnsupported('hex');
    this.i += m[0].length;
    return parseInt(m[1] ?? m[2]!, 16);
  }

  /** One member character of a class, or undefined when it was a named set (added to `members`). */
  private classChar(members: CharSet, unknown: { any: boolean }): number | undefined {
    const c = this.p[this.i]!;
    if (c !== '\\') {
      const cp = this.p.codePointAt(this.i)!;
      this.i += cp > 0xffff ? 2 : 1;
      return cp;
    }
    const n = this.p[this.i + 1];
    if (n === undefined) throw new Re2SyntaxUnsupported('escape');
    this.i += 2;
    const named = NAMED[n];
    if (named !== undefined) {
      // a negated Perl class in a class: its complement of the folded set, as RE2 takes it
      members.push(...(named.negated ? complement(this.ci ? caseFold(named.set).set : named.set) : named.set));
      return undefined;
    }
    if (n === 'p' || n === 'P') {
      this.unicodeClassName();
      unknown.any = true;
      return undefined;
    }
    const simple = SIMPLE_ESCAPES[n];
    if (simple !== undefined) return simple;
    if (n === 'x') return this.hexEscape();
    if (/[A-Za-z0-9]/.test(n)) throw new Re2SyntaxUnsupported(`\\${n}`);
    return n.codePointAt(0)!;
  }

  private charClass(): Re2Node {
    this.i++; // [
    let negated = false;
    if (this.p[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const members: CharSet = [];
    // a member these analyses cannot enumerate ([:alpha:], \pL): the class is "any character",
    // negated or not, which is wider than what RE2 matches and so safe for both analyses
    const unknown = { any: false };
    let first = true;
    while (this.i < this.p.length && (this.p[this.i] !== ']' || first)) {
      first = false;
      if (this.p[this.i] === '[' && this.p[this.i + 1] === ':') {
        const end = this.p.indexOf(':]', this.i);
        if (end < 0) throw new Re2SyntaxUnsupported('posix class');
        this.i = end + 2;
        unknown.any = true;
        continue;
      }
      const lo = this.classChar(members, unknown);
      if (lo === undefined) continue;
      if (this.p[this.i] === '-' && this.p[this.i + 1] !== ']' && this.i + 1 < this.p.length) {
        this.i++;
        const hi = this.classChar(members, unknown);
        if (hi === undefined || hi < lo) throw new Re2SyntaxUnsupported('range');
        members.push([lo, hi]);
        continue;
      }
      members.push([lo, lo]);
    }
    if (this.p[this.i] !== ']') throw new Re2SyntaxUnsupported('class');
    this.i++;
    if (unknown.any) return this.chars(ANY, false);
    if (!negated) return this.chars(members, true);
    // negated: RE2 folds the members, then takes the rest; folding fewer only widens the rest
    const inner = this.ci ? caseFold(normalize(members)).set : normalize(members);
    return this.chars(complement(inner), false);
  }
}

/** The tree of an RE2 pattern; throws Re2SyntaxUnsupported for what is not read here. */
export function parseRe2(pattern: string): Re2Node {
  return new Parser(pattern).parse();
}
