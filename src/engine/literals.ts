/**
 * Extracts, from a rule's pattern, a set of literal strings at least one of which occurs in every
 * match (as RE2's own prefilter does). The multi-pattern pass then looks only for those literals,
 * which keeps its automaton small and fast however many rules there are; each candidate rule then
 * runs its exact pattern. The analysis is conservative: anything it does not understand yields
 * "no literal", and the rule falls back to its widened pattern in the Set.
 *
 * Literals are lower-cased and searched case-insensitively: a superset, never a miss.
 */

interface Info {
  /** The node matches exactly one of these strings (undefined: unknown or too many). */
  exact?: string[];
  /** Every match of the node contains one of these (undefined: nothing known). */
  req?: string[];
}

const MAX_SET = 64;
const MAX_LEN = 48;
export const MIN_LITERAL = 2;

class Unsupported extends Error {}

/**
 * Words found in almost every source file: as the only literal of a rule they select it everywhere,
 * so a rarer literal of the same rule (a provider name, a prefix) is preferred.
 */
const COMMON_LIST = 'key secret token password passwd pass pwd auth api access client private credential credentials bearer user username login session id app url http https host path pattern server data source'.split(' ');
const COMMON = new Set(COMMON_LIST);

/**
 * How selective one literal is: its length, but a common word (or a piece of one: "pat" is in
 * "path") scores 2, and two letters or digits alone ("cf", "ac") score 1, below any word.
 */
function literalScore(s: string): number {
  const core = s.replace(/[^a-z0-9]/g, '');
  if (s.length <= 2 && core.length === s.length) return Math.min(s.length, 1);
  if (COMMON.has(core) || COMMON_LIST.some((w) => (core.length <= w.length + 1 && core.includes(w)) || (core.length >= 3 && w.includes(core)))) return Math.min(s.length, 2);
  return s.length;
}

/** How selective a literal set is: the score of its weakest member (longer and rarer is better). */
function score(set: string[] | undefined): number {
  if (!set || set.length === 0) return -1;
  let min = Infinity;
  for (const s of set) min = Math.min(min, s.length === 0 ? 0 : literalScore(s));
  return min;
}

function best(...sets: (string[] | undefined)[]): string[] | undefined {
  let pick: string[] | undefined;
  for (const s of sets) {
    if (score(s) > score(pick) || (score(s) === score(pick) && s && pick && s.length < pick.length)) pick = s;
  }
  return score(pick) > 0 ? pick : undefined;
}

const dedupe = (a: string[]): string[] => [...new Set(a)];

function alternate(branches: Info[]): Info {
  let exact: string[] | undefined = [];
  for (const b of branches) {
    if (!b.exact || !exact) {
      exact = undefined;
      continue;
    }
    exact.push(...b.exact);
  }
  if (exact && exact.length > MAX_SET) exact = undefined;
  let req: string[] | undefined = [];
  for (const b of branches) {
    const r = best(b.exact, b.req);
    if (!r || !req) {
      req = undefined;
      break;
    }
    req.push(...r);
  }
  return { ...(exact ? { exact: dedupe(exact) } : {}), ...optReq(req ? best(dedupe(req)) : undefined) };
}

const optReq = (req: string[] | undefined): Info => (req ? { req } : {});

class Parser {
  private i = 0;
  constructor(private readonly p: string) {}

  parse(): Info {
    const info = this.alternation();
    if (this.i < this.p.length) throw new Unsupported('trailing');
    return info;
  }

  private alternation(): Info {
    const branches = [this.sequence()];
    while (this.p[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0]! : alternate(branches);
  }

  /**
   * A concatenation: runs of exactly-known atoms are multiplied out into longer literals
   * ("-" "u" "s" gives "-us"); an unknown atom ends a run. The best run or required set wins.
   */
  private sequence(): Info {
    const candidates: (string[] | undefined)[] = [];
    let run: string[] = [''];
    let broken = false;
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
      const info = this.quantified();
      if (info.exact) {
        const next = run.length * info.exact.length <= MAX_SET ? dedupe(run.flatMap((x) => info.exact!.map((y) => x + y))) : undefined;
        if (next && next.every((s) => s.length <= MAX_LEN)) {
          run = next;
          continue;
        }
        candidates.push(run);
        run = info.exact;
        broken = true;
        continue;
      }
      candidates.push(run, info.req);
      run = [''];
      broken = true;
    }
    candidates.push(run);
    return { ...(broken ? {} : { exact: run }), ...optReq(best(...candidates)) };
  }

  private quantified(): Info {
    const atom = this.atom();
    const q = this.quantifier();
    if (q === undefined) return atom;
    const [min, max] = q;
    if (min === 0 && max === 1 && atom.exact) return { exact: dedupe([...atom.exact, '']) };
    if (min === 0) return {};
    if (min === 1 && max === 1) return atom;
    // X{m,...}: at least one X occurs, so X's literals are required; exact repetition is not tracked
    return optReq(best(atom.exact, atom.req));
  }

  private quantifier(): [number, number] | undefined {
    const c = this.p[this.i];
    let r: [number, number] | undefined;
    if (c === '*') r = [0, Infinity];
    else if (c === '+') r = [1, Infinity];
    else if (c === '?') r = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.p.slice(this.i));
      if (!m) return undefined;
      this.i += m[0].length - 1;
      const min = Number(m[1]);
      r = [min, m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])];
    }
    if (r === undefined) return undefined;
    this.i++;
    if (this.p[this.i] === '?') this.i++; // lazy: same language
    return r;
  }

  private atom(): Info {
    const c = this.p[this.i]!;
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    this.i++;
    if (c === '.') return {};
    if (c === '^' || c === '$') return { exact: [''] };
    if (c === ')' || c === '*' || c === '+' || c === '?') throw new Unsupported(c);
    return { exact: [c.toLowerCase()] };
  }

  private group(): Info {
    this.i++; // (
    if (this.p[this.i] === '?') {
      const rest = this.p.slice(this.i);
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
      const flags = /^\?[imsU-]*(:|\))/.exec(rest);
      if (named) this.i += named[0].length;
      else if (flags) {
        this.i += flags[0].length;
        if (flags[1] === ')') return { exact: [''] }; // (?i) applies to the rest; we ignore case anyway
      } else throw new Unsupported('group');
    }
    const inner = this.alternation();
    if (this.p[this.i] !== ')') throw new Unsupported('unclosed');
    this.i++;
    return inner;
  }

  private escape(): Info {
    const n = this.p[this.i + 1];
    if (n === undefined) throw new Unsupported('escape');
    this.i += 2;
    if ('dDwWsSpPCX'.includes(n)) {
      if ((n === 'p' || n === 'P') && this.p[this.i] === '{') this.i = this.p.indexOf('}', this.i) + 1;
      else if (n === 'p' || n === 'P') this.i++;
      return {};
    }
    if (n === 'b' || n === 'B' || n === 'A' || n === 'z') return { exact: [''] };
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', '0': '\0' };
    if (simple[n] !== undefined) return { exact: [simple[n]] };
    if (n === 'x') {
      const m = /^\{([0-9a-fA-F]+)\}|^([0-9a-fA-F]{2})/.exec(this.p.slice(this.i));
      if (!m) throw new Unsupported('hex');
      this.i += m[0].length;
      return { exact: [String.fromCodePoint(parseInt(m[1] ?? m[2]!, 16)).toLowerCase()] };
    }
    if (/[A-Za-z0-9]/.test(n)) throw new Unsupported(`\\${n}`);
    return { exact: [n.toLowerCase()] };
  }

  private charClass(): Info {
    this.i++; // [
    let negated = false;
    if (this.p[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const chars = new Set<string>();
    let unknown = false;
    let first = true;
    while (this.i < this.p.length && (this.p[this.i] !== ']' || first)) {
      first = false;
      let c = this.p[this.i]!;
      if (c === '[' && this.p[this.i + 1] === ':') {
        const end = this.p.indexOf(':]', this.i);
        if (end < 0) throw new Unsupported('posix');
        this.i = end + 2;
        unknown = true;
        continue;
      }
      if (c === '\\') {
        const n = this.p[this.i + 1]!;
        this.i += 2;
        if ('dDwWsSpP'.includes(n)) {
          if ((n === 'p' || n === 'P') && this.p[this.i] === '{') this.i = this.p.indexOf('}', this.i) + 1;
          else if (n === 'p' || n === 'P') this.i++;
          unknown = true;
          continue;
        }
        const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v' };
        if (n === 'x') {
          const m = /^\{([0-9a-fA-F]+)\}|^([0-9a-fA-F]{2})/.exec(this.p.slice(this.i));
          if (!m) throw new Unsupported('hex');
          this.i += m[0].length;
          c = String.fromCodePoint(parseInt(m[1] ?? m[2]!, 16));
        } else c = simple[n] ?? n;
      } else this.i++;
      if (this.p[this.i] === '-' && this.p[this.i + 1] !== ']' && this.i + 1 < this.p.length) {
        this.i++;
        let hi = this.p[this.i]!;
        if (hi === '\\') {
          hi = this.p[this.i + 1]!;
          this.i++;
        }
        this.i++;
        const span = hi.charCodeAt(0) - c.charCodeAt(0);
        if (span < 0 || span > 16) {
          unknown = true;
          continue;
        }
        for (let k = 0; k <= span; k++) chars.add(String.fromCharCode(c.charCodeAt(0) + k).toLowerCase());
        continue;
      }
      chars.add(c.toLowerCase());
    }
    if (this.p[this.i] !== ']') throw new Unsupported('class');
    this.i++;
    if (negated || unknown || chars.size > 8) return {};
    return { exact: [...chars] };
  }
}

/** The literals one of which every match contains, or undefined when none useful can be proven. */
export function requiredLiterals(pattern: string): string[] | undefined {
  let info: Info;
  try {
    info = new Parser(pattern).parse();
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const lits = best(info.exact, info.req);
  // generic key names score low but are still far better than no literal at all
  // two characters are enough only when one is punctuation ("q~", "-us"): "cf" or "ac" occur everywhere
  if (!lits || lits.some((l) => l.length < MIN_LITERAL || (l.length < 3 && /^[a-z0-9]+$/.test(l)))) return undefined;
  // a literal containing another one of the set is implied by it
  const sorted = [...lits].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const s of sorted) if (!kept.some((k) => s.includes(k))) kept.push(s);
  return kept.sort();
}

const META = /[\\^$.|?*+()[\]{}]/g;
/** How a literal prefilter pattern starts (a widened pattern never does). */
export const LITERAL_PREFILTER_START = '(?i:';

/** The Set pattern for a rule: its required literals, case-insensitive; else the widened pattern. */
export function prefilterPattern(pattern: string, widened: string): string {
  const lits = requiredLiterals(pattern);
  if (!lits) return widened;
  return `${LITERAL_PREFILTER_START}${lits.map((l) => l.replace(META, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')).join('|')})`;
}

/** Changes whenever the analysis does: cached prefilters from another version are recomputed. */
export const PREFILTER_VERSION = 3;
