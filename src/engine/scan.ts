import RE2 from 're2';
import type { Hit } from '../core/types.js';
import type { CompiledRule, CompiledRuleSet } from './compile.js';
import { isPlaceholder } from './placeholder.js';
import { shannonEntropy } from './entropy.js';
import { hasInlineAllow } from './inline-allow.js';
import { assembleComposites } from './composite.js';
import { MAX_DECODE_DEPTH, encodedSegments } from './decode.js';
import { DECODE_TRIGGER, ruleOfPattern } from './compile.js';

/** Inputs up to this size are scanned in one pass; larger ones in overlapping windows. */
export const SINGLE_PASS_MAX = 256 * 1024;
/** Bytes each window owns: matches starting in it are reported by it. */
export const WINDOW_SIZE = 64 * 1024;
/** Bytes read past the owned part, so a secret up to this long that straddles windows is found once. */
export const WINDOW_OVERLAP = 8 * 1024;

const NEWLINE = 0x0a;
/** Combinations of broad rules whose Sets a worker keeps (build logs need a handful). */
const MAX_EXACT_FILTERS = 256;
/** Inputs (windows) from this size on have their broad candidates filtered by one Set first. */
const EXACT_FILTER_MIN_BYTES = 32 * 1024;

function isWordByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f;
}

interface Candidate {
  rule: CompiledRule;
  start: number;
  end: number;
  secret: string;
  /** Identity found by the rule inside decoded content (the outer bytes are encoded). */
  identity?: string;
  decodedFrom?: string;
}

/**
 * Scans one input (a file, a blob, a log) window by window and keeps the line count between
 * windows, so line and column are computed only for matches, never for every byte.
 */
export class InputScanner {
  private line = 1;
  /** Absolute offset of the first byte of the current line. */
  private lineStart = 0;
  private prevByte = -1;

  /** `depth` counts decoding levels above this scanner (0: raw input). */
  constructor(
    private readonly rules: CompiledRuleSet,
    private readonly depth = 0,
  ) {}

  /**
   * Scans `buf`, whose first byte is at absolute offset `base` of the input. Matches that start at or
   * past `ownedEnd` are left to the next window, which must start exactly at base + ownedEnd.
   * `patternsFound`: the multi-pattern pass's answer for `buf`, when it already ran.
   */
  scanWindow(buf: Buffer, base: number, ownedEnd: number = buf.length, last = false, patternsFound?: PatternsFound): Hit[] {
    const found = patternsFound ?? passOver(this.rules, buf);
    const ids = found.ids.map((i) => ruleOfPattern(this.rules, i));
    const candidates = this.match(buf, ownedEnd, ids, found.ends);
    if (this.depth < MAX_DECODE_DEPTH && ids.includes(DECODE_TRIGGER)) candidates.push(...this.decoded(buf, ownedEnd));
    const hits = candidates.length === 0 ? [] : this.locate(buf, base, candidates);
    // counting a window's lines costs a search per line: only a window that has a successor needs it
    if (!last) this.advance(buf, base, ownedEnd);
    return hits;
  }

  private match(buf: Buffer, ownedEnd: number, ids: number[], ends: ArrayLike<number>): Candidate[] {
    if (ids.length === 0) return [];
    const out: Candidate[] = [];
    const skip = this.broadThatCannotMatch(buf, ids);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (id === DECODE_TRIGGER || skip?.has(id)) continue;
      const rule = this.rules.rules[id]!;
      const re = rule.regex;
      // No match starts before the first factor's end minus the rule's reach (literals.ts): the
      // search skips what comes before. Halved the exact patterns' work on the bench tree.
      const end = ends[k]!;
      re.lastIndex = rule.reach >= 0 && end > rule.reach ? end - rule.reach : 0;
      for (;;) {
        const m = re.exec(buf);
        if (m === null) break;
        const mStart = m.index;
        const mEnd = mStart + (m[0] as unknown as Buffer).length;
        if (mEnd === mStart) re.lastIndex = mEnd + 1; // never loop on an empty match
        if (mStart >= ownedEnd) break;
        if (rule.def.boundary === 'word') {
          const before = mStart > 0 ? buf[mStart - 1]! : this.prevByte;
          const after = mEnd < buf.length ? buf[mEnd]! : -1;
          if ((before >= 0 && isWordByte(before)) || (after >= 0 && isWordByte(after))) continue;
        }
        let span: [number, number] | undefined = [mStart, mEnd];
        if (rule.secretGroup > 0) {
          rule.locator.lastIndex = mStart;
          const located = rule.locator.exec(buf) as (RegExpExecArray & { indices?: [number, number][] }) | null;
          span = located?.indices?.[rule.secretGroup];
        }
        if (span === undefined) continue;
        const [sStart, sEnd] = span;
        if (sEnd <= sStart) continue;
        const secret = buf.toString('utf8', sStart, sEnd);
        if (!this.accept(rule, secret)) continue;
        out.push({ rule, start: sStart, end: sEnd, secret });
      }
    }
    return out;
  }

  /**
   * Broad candidates (patterns RE2 cannot skip through) each cost a full pass; when there are
   * several, one Set of their exact patterns tells which can match at all. Build logs select the
   * same handful of keyword rules in every batch, so the Sets are kept per combination. On
   * Hyperscan, whose pass runs each rule's superset, a candidate can match: no Set is needed.
   */
  private broadThatCannotMatch(buf: Buffer, ids: number[]): Set<number> | undefined {
    // small inputs: a rule's pass is short and a combination rarely repeats, so building Sets costs more
    if (buf.length < EXACT_FILTER_MIN_BYTES) return undefined;
    // a rule the pass found by its superset (Hyperscan) can match here: filtering it again is waste
    const broad = ids.filter((id) => id !== DECODE_TRIGGER && this.rules.rules[id]!.broad && this.rules.prefilter.reportsSourceEnd(id));
    if (broad.length < 2) return undefined;
    const key = broad.join(',');
    let set = this.rules.exactFilters.get(key);
    if (set === undefined) {
      // a combination seen once is not worth a Set's compilation; build logs repeat theirs
      const seen = this.rules.exactFilterSightings;
      if (!seen.has(key)) {
        if (seen.size >= MAX_EXACT_FILTERS * 4) seen.clear();
        seen.add(key);
        return undefined;
      }
      try {
        set = new RE2.Set(broad.map((id) => this.rules.rules[id]!.def.pattern));
      } catch {
        set = null;
      }
      if (this.rules.exactFilters.size >= MAX_EXACT_FILTERS) this.rules.exactFilters.clear();
      this.rules.exactFilters.set(key, set);
    }
    if (set === null) return undefined;
    let can: number[];
    try {
      can = set.match(buf);
    } catch {
      return undefined; // the Set's automaton ran out of memory on this input: run them all
    }
    const skip = new Set(broad);
    for (const k of can) skip.delete(broad[k]!);
    return skip;
  }

  /** Hits inside base64 / percent-encoded segments, placed at the segment. */
  private decoded(buf: Buffer, ownedEnd: number): Candidate[] {
    const out: Candidate[] = [];
    for (const seg of encodedSegments(buf, ownedEnd)) {
      const inner = new InputScanner(this.rules, this.depth + 1).scanWindow(seg.decoded, 0, seg.decoded.length, true);
      for (const h of inner) {
        const rule = this.rules.rules.find((r) => r.def.id === h.ruleId);
        if (!rule) continue;
        const c: Candidate = { rule, start: seg.start, end: seg.end, secret: h.secret, decodedFrom: h.decodedFrom ? `${seg.encoding}+${h.decodedFrom}` : seg.encoding };
        if (h.identity !== undefined) c.identity = h.identity;
        out.push(c);
      }
    }
    return out;
  }

  private accept(rule: CompiledRule, secret: string): boolean {
    if (isPlaceholder(secret)) return false;
    if (rule.def.entropy !== undefined && shannonEntropy(secret) < rule.def.entropy) return false;
    for (const a of rule.allow) if (a.test(secret)) return false;
    if (rule.validate !== undefined && !rule.validate(secret)) return false;
    return true;
  }

  private locate(buf: Buffer, base: number, candidates: Candidate[]): Hit[] {
    candidates.sort((a, b) => a.start - b.start || (a.rule.def.id < b.rule.def.id ? -1 : 1));
    const hits: Hit[] = [];
    let pos = 0;
    let line = this.line;
    let lineStartRel = this.lineStart - base; // may be negative: the line began in an earlier window
    for (const c of candidates) {
      // advance line count up to c.start
      for (;;) {
        const nl = buf.indexOf(NEWLINE, pos);
        if (nl === -1 || nl >= c.start) break;
        line++;
        lineStartRel = nl + 1;
        pos = nl + 1;
      }
      const lineEndRel = indexOrEnd(buf, NEWLINE, c.end);
      if (hasInlineAllow(buf, Math.max(lineStartRel, 0), lineEndRel, c.start, c.end)) continue;
      const column = columnOf(buf, lineStartRel, c.start);
      // end position: the secret may span lines (PEM blocks)
      let endLine = line;
      let endLineStart = lineStartRel;
      for (let i = buf.indexOf(NEWLINE, c.start); i !== -1 && i < c.end; i = buf.indexOf(NEWLINE, i + 1)) {
        endLine++;
        endLineStart = i + 1;
      }
      const endColumn = columnOf(buf, endLineStart, c.end);
      const hit: Hit = {
        ruleId: c.rule.def.id,
        secret: c.secret,
        line,
        column,
        endLine,
        endColumn,
        offset: base + c.start,
      };
      if (c.decodedFrom !== undefined) {
        hit.decodedFrom = c.decodedFrom;
        if (c.identity !== undefined) hit.identity = c.identity;
      } else if (c.rule.identity !== undefined) {
        const im = c.rule.identity.exec(c.secret);
        if (im !== null) hit.identity = im[1] ?? im[0];
      }
      hits.push(hit);
    }
    return hits;
  }

  /** Moves line state past the owned part of the window. */
  private advance(buf: Buffer, base: number, ownedEnd: number): void {
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, pos);
      if (nl === -1 || nl >= ownedEnd) break;
      this.line++;
      this.lineStart = base + nl + 1;
      pos = nl + 1;
    }
    if (ownedEnd > 0) this.prevByte = buf[ownedEnd - 1]!;
  }
}

/** The multi-pattern pass's answer for one input: patterns found, and where each first ended (0: unknown). */
export interface PatternsFound {
  ids: number[];
  ends: ArrayLike<number>;
}

/**
 * The patterns found in `buf` by the multi-pattern pass (rule indices through ruleOfPattern;
 * DECODE_TRIGGER's patterns when the input has a context where encoded credentials live).
 */
function passOver(rules: CompiledRuleSet, buf: Buffer): PatternsFound {
  const ids = rules.prefilter.match(buf, rules.patternEnds);
  return { ids, ends: rules.patternEnds.slice(0, ids.length) };
}

function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const i = buf.indexOf(byte, from);
  return i === -1 ? buf.length : i;
}

/**
 * 1-based column in UTF-16 code units when the line starts inside this window; when it began in an
 * earlier window (a very long line), bytes are counted instead, which equals UTF-16 units for ASCII.
 */
function columnOf(buf: Buffer, lineStartRel: number, at: number): number {
  if (lineStartRel >= 0) {
    if (at - lineStartRel > 64 * 1024) return at - lineStartRel + 1;
    return buf.toString('utf8', lineStartRel, at).length + 1;
  }
  return at - lineStartRel + 1;
}

/** Adds the composite hits (credential pairs) that the hits of one input make up. */
export function withComposites(rules: CompiledRuleSet, hits: Hit[]): Hit[] {
  const extra = assembleComposites(hits, rules.composites);
  return extra.length === 0 ? hits : [...hits, ...extra];
}

/**
 * Scans a whole in-memory input, in windows when it is large. `patternsFound`: the multi-pattern
 * pass already ran over this (single-pass) input, natively (see workers/task.ts).
 */
export function scanBuffer(rules: CompiledRuleSet, data: Buffer, patternsFound?: PatternsFound): Hit[] {
  const scanner = new InputScanner(rules);
  if (data.length <= SINGLE_PASS_MAX) return withComposites(rules, scanner.scanWindow(data, 0, data.length, true, patternsFound));
  const hits: Hit[] = [];
  for (let start = 0; start < data.length; start += WINDOW_SIZE) {
    const end = Math.min(data.length, start + WINDOW_SIZE + WINDOW_OVERLAP);
    const owned = Math.min(WINDOW_SIZE, data.length - start);
    hits.push(...scanner.scanWindow(data.subarray(start, end), start, owned));
  }
  return withComposites(rules, hits);
}
