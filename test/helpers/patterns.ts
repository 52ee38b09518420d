import { randomInt } from 'node:crypto';
import RE2 from 're2';

/** Text around which RE2 and Hyperscan could part: case folds, \v, multi-byte characters, newlines. */
const EDGE_PIECES = ['k', 'K', '\u212a', 's', 'S', '\u017f', '\v', '\t', ' ', '\n', 'é', 'É', '😀', 'a', 'b', '=', '"', '_', '0', '9', 'x'];
export function edgeText(): string {
  let s = '';
  for (let i = 0, n = randomInt(1, 24); i < n; i++) s += EDGE_PIECES[randomInt(EDGE_PIECES.length)]!;
  return s;
}

/**
 * A random pattern from the constructs the pattern analyses read, with a sampler of strings it likely
 * matches (case, classes and counts at their edges); RE2 decides which of them really match.
 */
export interface Generated {
  source: string;
  sample(): string;
}
const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!;
const LITERALS = ['a', 'k', 'K', 's', 'S', 'z', '0', '_', '=', '.', '-', 'é', '\u212a', '\u017f'];
const CLASSES: [string, string[]][] = [
  ['[a-z]', ['a', 'k', 's', 'z', 'K', '\u212a']],
  ['[^a-z]', ['A', '0', '\v', 'é', '\u212a', 'k']],
  ['[0-9A-F]', ['0', '9', 'A', 'f']],
  ['\\s', [' ', '\t', '\n', '\v', '\f']],
  ['\\S', ['a', '\v', 'é', ' ']],
  ['\\w', ['a', '_', '9', 'é']],
  ['\\W', ['-', ' ', 'é', 'a']],
  ['\\d', ['0', '5', '٣']],
  ['[^\\s"]', ['a', '"', '\v', ' ']],
  ['[ks]', ['k', 's', 'K', 'S', '\u212a', '\u017f']],
  ['.', ['a', '\n', 'é', '😀']],
  ['\\pL', ['a', 'é', '1']],
];
function generate(depth: number): Generated {
  const r = depth > 2 ? randomInt(3) : randomInt(9);
  if (r === 0) {
    const lit = pick(LITERALS);
    const source = lit === '.' || lit === '-' ? `\\${lit}` : lit;
    return { source, sample: () => (randomInt(4) === 0 ? pick(LITERALS) : lit) };
  }
  if (r === 1 || r === 2) {
    const [source, samples] = pick(CLASSES);
    return { source, sample: () => pick(samples) };
  }
  if (r === 3) {
    const parts = [generate(depth + 1), generate(depth + 1)];
    return { source: parts.map((p) => p.source).join(''), sample: () => parts.map((p) => p.sample()).join('') };
  }
  if (r === 4) {
    const a = generate(depth + 1);
    const b = generate(depth + 1);
    return { source: `(?:${a.source}|${b.source})`, sample: () => (randomInt(2) === 0 ? a : b).sample() };
  }
  if (r === 5) {
    const inner = generate(depth + 1);
    const [q, min, max] = pick([['*', 0, 3], ['+', 1, 3], ['?', 0, 1], ['{2}', 2, 2], ['{1,3}', 1, 3], ['{2,}', 2, 4], ['{34}', 34, 34], ['{33,40}', 33, 36]] as const);
    return { source: `(?:${inner.source})${q}`, sample: () => Array.from({ length: min + randomInt(max - min + 1) }, () => inner.sample()).join('') };
  }
  if (r === 6) {
    const inner = generate(depth + 1);
    const flag = pick(['?i', '?-i', '?s', '?i-s', '?P<secret>']);
    const sample = (): string => {
      const s = inner.sample();
      return flag.startsWith('?i') && randomInt(2) === 0 ? s.toUpperCase() : s;
    };
    return { source: `(${flag}${flag.startsWith('?P') ? '' : ':'}${inner.source})`, sample };
  }
  if (r === 7) {
    const inner = generate(depth + 1);
    const [pre, post] = pick([['^', ''], ['', '$'], ['\\b', '\\b'], ['(?i)', '']]);
    return { source: `${pre}${inner.source}${post}`, sample: inner.sample };
  }
  const inner = generate(depth + 1);
  return { source: `${inner.source}`, sample: () => (randomInt(3) === 0 ? 'K' : '') + inner.sample() };
}


/** A random pattern over the constructs the pattern analyses read (see Generated). */
export function randomPattern(): Generated {
  return generate(0);
}

/** Of `count` random patterns, those RE2 takes, each with its compiled form. */
export function* re2Patterns(count: number): Generator<Generated & { re: RE2 }> {
  for (let n = 0; n < count; n++) {
    const g = randomPattern();
    let re: RE2;
    try {
      re = new RE2(g.source);
    } catch {
      continue; // not a pattern RE2 takes: nothing to compare
    }
    yield { ...g, re };
  }
}

/** Strings sampled from a pattern, between a few edge characters. */
export function samplesOf(g: Generated, count: number): Buffer[] {
  return Array.from({ length: count }, () => Buffer.from(`${edgeText().slice(0, 3)}${g.sample()}${edgeText().slice(0, 3)}`));
}
