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
 * - A Unicode class (`\pL`, `[[:alpha:]]`) becomes any character.
 * - Anything else not understood (`\Q`, `\C`, octal escapes) gives up: the rule keeps its factors.
 *
 * The pattern is read by re2-syntax.ts, as for the factors.
 */

import { complement, MAX_CP, parseRe2, Re2SyntaxUnsupported, type CharSet, type Re2Node } from './re2-syntax.js';

/** Counted repetitions above this lose their upper bound (and a lower bound above it is lowered). */
const MAX_COUNT = 32;

class Unsupported extends Error {}

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

/** Hyperscan source of a node; `bare`: it may stand without a group (not inside a concatenation or repeat). */
function emit(n: Re2Node, bare: boolean): string {
  switch (n.kind) {
    case 'empty':
      return '';
    case 'chars':
      if (n.foldsUnknown) throw new Unsupported('case-insensitive class with non-ASCII members');
      return emitSet(n.set);
    case 'concat':
      return n.items.map((item) => emit(item, false)).join('');
    case 'alt': {
      const out = n.branches.map((b) => emit(b, true)).join('|');
      return bare ? out : `(?:${out})`;
    }
    case 'repeat': {
      const inner = emit(n.node, true);
      if (inner === '') return '';
      const { min, max } = n;
      const q =
        min === 0 && max === Infinity ? '*'
        : min === 1 && max === Infinity ? '+'
        : min === 0 && max === 1 ? '?'
        : max <= MAX_COUNT ? (min === max ? `{${min}}` : `{${min},${max}}`)
        : `{${Math.min(min, MAX_COUNT)},}`;
      const single = n.node.kind === 'chars';
      return `${single ? inner : `(?:${inner})`}${q}`;
    }
  }
}

/**
 * The Hyperscan superset of an RE2 pattern (compile it with the UTF8 and PREFILTER flags), or
 * undefined when the rewrite cannot promise a superset.
 */
export function hyperscanSuperset(pattern: string): string | undefined {
  try {
    const out = emit(parseRe2(pattern), true);
    return out === '' ? undefined : out;
  } catch (e) {
    if (e instanceof Unsupported || e instanceof Re2SyntaxUnsupported) return undefined;
    throw e;
  }
}
