import RE2 from 're2';
import type { RuleDefinition } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { validators } from './validators/index.js';
import { widenRepetitions } from './prefilter.js';
import { LITERAL_PREFILTER_START, prefilterAndReach } from './literals.js';
import { DECODE_TRIGGER_PATTERNS } from './decode.js';
import { hyperscanSuperset } from './superset.js';
import { buildMatcher, type HyperscanStore, type MultiPattern, type MultiPatternMatcher } from './multipattern.js';

export interface CompiledRule {
  def: RuleDefinition;
  /** Global regex, run only when the Set says this rule can match. */
  regex: RE2;
  /**
   * The same pattern, sticky and with group indices ('yd'): re-run at a match's start to learn where
   * the secret group lies. Computing indices costs on every search, so only matches pay for it.
   */
  locator: RE2;
  /** Index of the secret's group in a match (0 = whole match). */
  secretGroup: number;
  /**
   * The pattern does not start with a literal, so RE2 cannot skip to one: each run is a full pass
   * over the input. Several such candidates share one pass first (see scan.ts).
   */
  broad: boolean;
  /**
   * def.factorReach: how far before the first factor occurrence a match may start (-1: anywhere);
   * -1 too when the multi-pattern pass runs the rule's superset, whose ends say nothing of factors.
   */
  reach: number;
  allow: RE2[];
  identity: RE2 | undefined;
  validate: ((secret: string) => boolean) | undefined;
}

/** A `ruleIndex` entry that is no rule: the input has a context worth decoding (see decode.ts). */
export const DECODE_TRIGGER = -1;

export interface CompiledRuleSet {
  rules: CompiledRule[];
  /**
   * For a combination of broad candidate rules (key: their indices), one Set of their exact
   * patterns: which of them can match at all, in one pass instead of one per rule. Null: the Set
   * could not be built; every rule then runs.
   */
  exactFilters: Map<string, InstanceType<typeof RE2.Set> | null>;
  /** Combinations seen once so far (a Set is built on the second sighting). */
  exactFilterSightings: Set<string>;
  /**
   * The multi-pattern pass over every rule's prefilter (pattern i is rule i's) and then the
   * decoding contexts (DECODE_TRIGGER_PATTERNS): which rules can match a chunk at all.
   */
  prefilter: MultiPatternMatcher;
  /** Scratch for the pass's match ends (one per pattern), reused by every input. */
  patternEnds: Uint32Array;
  /** Rules assembled from other rules' hits (no pattern of their own). */
  composites: RuleDefinition[];
}

function compileRegex(source: string, flags: string, where: string): RE2 {
  try {
    return new RE2(source, flags);
  } catch (e) {
    throw new UserError(`${where}: pattern does not compile as RE2: ${(e as Error).message}`);
  }
}

/** Index of the capture group holding the secret: named 'secret', else group 1, else whole match. */
function secretGroupIndex(pattern: string): number {
  // Count capturing groups up to the one named secret; RE2 numbers groups by opening parenthesis.
  let index = 0;
  let named = -1;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '[') {
      // skip character class
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') {
        if (pattern[i] === '\\') i++;
        i++;
      }
      continue;
    }
    if (ch !== '(') continue;
    if (pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith('P<') || (rest.startsWith('<') && !rest.startsWith('<=') && !rest.startsWith('<!'))) {
        index++;
        const name = rest.slice(rest.indexOf('<') + 1, rest.indexOf('>'));
        if (name === 'secret' && named < 0) named = index;
      }
      continue;
    }
    index++;
  }
  if (named > 0) return named;
  return index >= 1 ? 1 : 0;
}

const MAX_WIDENED_IN_LITERAL_SET = 4;

function isLiteralPrefilter(p: string): boolean {
  return p.startsWith(LITERAL_PREFILTER_START);
}

/** What the pattern analyses derive from a rule's pattern (see deriveAnalyses). */
export interface PatternAnalyses {
  /** The rule's pattern for the multi-pattern pass: its factors, else its widened pattern (literals.ts). */
  prefilter: string;
  /** The factors' reach (literals.ts; -1: matches need not begin with a factor). */
  reach: number;
  /** The whole pattern as a superset for Hyperscan's prefilter mode (superset.ts), when it has one. */
  superset: string | undefined;
}

/**
 * Fills in, when missing, what the pattern analyses derive from a rule's pattern. Kept on the
 * definition: the rules cache and the workers receive them and skip the analyses (all built-in
 * rules: about 0.5 s).
 */
export function deriveAnalyses(def: RuleDefinition): PatternAnalyses {
  if (def.prefilter === undefined || def.factorReach === undefined) {
    const { prefilter, reach } = prefilterAndReach(def.pattern, widenRepetitions(def.pattern));
    def.prefilter ??= prefilter;
    def.factorReach ??= reach;
  }
  def.superset ??= hyperscanSuperset(def.pattern) ?? '';
  return { prefilter: def.prefilter, reach: def.factorReach, superset: def.superset === '' ? undefined : def.superset };
}

export interface CompileOptions {
  /** Rules whose regexes compile at once (validation of user-supplied rules); default none. */
  eager?: (def: RuleDefinition) => boolean;
  /** Compiled Hyperscan databases kept between runs or handed over from another thread. */
  hyperscanStore?: HyperscanStore;
  /** 're2': the multi-pattern pass on RE2 even when Hyperscan is built (tests compare the two). */
  engine?: 'auto' | 're2';
}

export function compileRules(all: RuleDefinition[], options: CompileOptions = {}): CompiledRuleSet {
  const composites = all.filter((d) => d.composite !== undefined);
  const defs = all.filter((d) => d.composite === undefined);
  const ids = new Set(defs.map((d) => d.id));
  for (const c of composites) {
    const missing = c.composite!.parts.filter((p) => !ids.has(p));
    if (missing.length > 0) throw new UserError(`${c.file ?? 'rule'}: ${c.id}: composite part rule(s) not loaded: ${missing.join(', ')}`);
  }
  const analyses = defs.map(deriveAnalyses);
  const rules: CompiledRule[] = defs.map((def, i) => {
    const { reach } = analyses[i]!;
    const where = `${def.file ?? 'rule'}: ${def.id}`;
    const validate = def.validate === undefined ? undefined : validators[def.validate];
    if (def.validate !== undefined && validate === undefined) {
      throw new UserError(`${where}: unknown validator '${def.validate}' (known: ${Object.keys(validators).join(', ')})`);
    }
    // A rule's own regexes compile when the Set first selects it: a pre-commit scan of five files
    // compiles a handful of rules, not hundreds. `options.eager` (rules from a user's config)
    // compiles at once, so a bad pattern is reported before scanning starts.
    let regex: RE2 | undefined;
    let locator: RE2 | undefined;
    let allow: RE2[] | undefined;
    let identity: RE2 | null | undefined;
    const rule: CompiledRule = {
      def,
      get regex() {
        return (regex ??= compileRegex(def.pattern, 'g', where));
      },
      get locator() {
        return (locator ??= compileRegex(def.pattern, 'yd', where));
      },
      secretGroup: secretGroupIndex(def.pattern),
      broad: !startsWithLiteral(def.pattern),
      reach,
      get allow() {
        return (allow ??= def.allow.map((a) => compileRegex(a, '', `${where} allow`)));
      },
      get identity() {
        if (identity === undefined) identity = def.identity === undefined ? null : compileRegex(def.identity, '', `${where} identity`);
        return identity ?? undefined;
      },
      validate,
    };
    if (options.eager?.(def)) void [rule.regex, rule.locator, rule.allow, rule.identity];
    return rule;
  });
  const widened = analyses.map((a) => a.prefilter);
  const patterns: MultiPattern[] = [
    // factors are explicit classes, matched alike by both engines; a widened pattern stays on RE2
    ...analyses.map(({ prefilter: source, superset }): MultiPattern => ({
      source,
      hyperscanExact: isLiteralPrefilter(source),
      ...(superset !== undefined ? { superset } : {}),
    })),
    // the decoding contexts ride in the same pass: no pass of their own
    ...DECODE_TRIGGER_PATTERNS.map((source) => ({ source, hyperscanExact: true })),
  ];
  const literal = new Set(rules.map((_, i) => i).filter((i) => isLiteralPrefilter(widened[i]!)));
  // Literal prefilters make a fast automaton; widened patterns (rules without a usable literal) slow
  // any RE2 Set they join. Measured on the bench corpus: 4 widened patterns in the literal Set cost
  // 18%, a second pass costs 45%; 9 of them in the literal Set cost 60%. So a few join, many get their own.
  const re2Partition = (indices: number[]): number[][] => {
    const other = indices.filter((i) => i < rules.length && !literal.has(i));
    if (other.length <= MAX_WIDENED_IN_LITERAL_SET) return [indices];
    const slow = new Set(other);
    return [indices.filter((i) => !slow.has(i)), other];
  };
  const prefilter = buildMatcher(patterns, {
    re2Partition,
    ...(options.hyperscanStore ? { store: options.hyperscanStore } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
  });
  rules.forEach((r, i) => {
    if (!prefilter.reportsSourceEnd(i)) r.reach = -1;
  });
  return { rules, prefilter, patternEnds: new Uint32Array(patterns.length), composites, exactFilters: new Map(), exactFilterSightings: new Set() };
}

/** The rule of a multi-pattern index (or DECODE_TRIGGER for the decoding contexts). */
export function ruleOfPattern(rules: CompiledRuleSet, index: number): number {
  return index < rules.rules.length ? index : DECODE_TRIGGER;
}

/** The pattern starts with a literal character (after its opening groups) that is not optional. */
export function startsWithLiteral(pattern: string): boolean {
  let p = pattern;
  for (let m = /^\((?:\?P?<[A-Za-z_][A-Za-z0-9_]*>|\?:)?/.exec(p); m !== null && m[0] !== ''; m = /^\((?:\?P?<[A-Za-z_][A-Za-z0-9_]*>|\?:)?/.exec(p)) {
    p = p.slice(m[0].length);
  }
  return /^[A-Za-z0-9_]/.test(p) && !'?*{'.includes(p[1] ?? '') && !/^[A-Za-z0-9_]+\|/.test(p);
}
