import RE2 from 're2';
import type { Confidence, Finding, Hit, Location, Origin, RuleDefinition } from '../core/types.js';
import { fingerprintOf } from './fingerprint.js';
import { redact } from './redact.js';

export interface CollectOptions {
  showSecrets: boolean;
  /** Secrets matching any of these (config `allow.regexes`) are not findings. */
  allowRegexes: RE2[];
  /** Fingerprints the user has marked as known (ignore file, baseline). */
  ignoredFingerprints: ReadonlySet<string>;
  /**
   * Paths the config allows (`allow.paths`): nothing found there is reported, whatever the source.
   * The dir walker also skips them before reading; history, images and logs are filtered here.
   */
  allowedPath?: (path: string) => boolean;
}

const CONFIDENCE_RANK: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

/**
 * Turns hits from many chunks into findings, one per (rule, secret), through a short named pipeline:
 * drop allowed secrets, drop hits shadowed by a more confident rule on the same bytes,
 * group by fingerprint, then sort everything so output is deterministic.
 */
export class FindingCollector {
  private readonly byFingerprint = new Map<string, Finding>();
  private readonly locationKeys = new Map<string, Set<string>>();

  constructor(
    private readonly rules: ReadonlyMap<string, RuleDefinition>,
    private readonly options: CollectOptions,
  ) {}

  get count(): number {
    return this.byFingerprint.size;
  }

  add(origin: Origin, hits: readonly Hit[]): void {
    if (this.options.allowedPath?.(origin.path)) return;
    for (const hit of dropShadowed(dropAllowed(hits, this.options.allowRegexes), this.rules)) {
      this.addOne(origin, hit);
    }
  }

  private addOne(origin: Origin, hit: Hit): void {
    const rule = this.rules.get(hit.ruleId);
    if (!rule) return;
    const fingerprint = fingerprintOf(hit.ruleId, hit.secret);
    if (this.options.ignoredFingerprints.has(fingerprint)) return;
    let finding = this.byFingerprint.get(fingerprint);
    if (!finding) {
      finding = {
        ruleId: rule.id,
        title: rule.title,
        provider: rule.provider,
        severity: rule.severity,
        confidence: rule.confidence,
        fingerprint,
        redacted: redact(hit.secret),
        locations: [],
      };
      if (this.options.showSecrets) finding.secret = hit.secret;
      if (hit.identity !== undefined) finding.identity = hit.identity;
      this.byFingerprint.set(fingerprint, finding);
      this.locationKeys.set(fingerprint, new Set());
    }
    const location: Location = {
      path: origin.path,
      line: hit.line,
      column: hit.column,
      endLine: hit.endLine,
      endColumn: hit.endColumn,
    };
    if (origin.properties) location.properties = origin.properties;
    if (origin.rank !== undefined) location.rank = origin.rank;
    const key = `${location.path}\0${location.line}\0${location.column}\0${JSON.stringify(location.properties ?? {})}`;
    const keys = this.locationKeys.get(fingerprint)!;
    if (keys.has(key)) return;
    keys.add(key);
    finding.locations.push(location);
  }

  /** Every finding, locations sorted, findings sorted by their first location. */
  findings(): Finding[] {
    const out = [...this.byFingerprint.values()];
    for (const f of out) f.locations.sort(compareLocations);
    out.sort(
      (a, b) =>
        compareLocations(a.locations[0]!, b.locations[0]!) ||
        cmp(a.ruleId, b.ruleId) ||
        cmp(a.fingerprint, b.fingerprint),
    );
    return out;
  }
}

function dropAllowed(hits: readonly Hit[], allow: RE2[]): readonly Hit[] {
  if (allow.length === 0) return hits;
  return hits.filter((h) => !allow.some((re) => re.test(h.secret)));
}

/**
 * A hit whose bytes lie inside a hit of a more confident rule, or of a rule that declares it
 * supersedes this one, is the same secret seen less well. Composite hits (pairs) shadow nothing:
 * their parts are reported on their own.
 */
function dropShadowed(hits: readonly Hit[], rules: ReadonlyMap<string, RuleDefinition>): Hit[] {
  if (hits.length < 2) return [...hits];
  const rank = (h: Hit): number => CONFIDENCE_RANK[rules.get(h.ruleId)?.confidence ?? 'low'];
  const len = (h: Hit): number => Buffer.byteLength(h.secret);
  const supersedes = (a: Hit, b: Hit): boolean => rules.get(a.ruleId)?.supersedes?.includes(b.ruleId) ?? false;
  // a rule that declares it supersedes another wins even when it is the less confident one
  const beats = (o: Hit, h: Hit): boolean =>
    rules.get(o.ruleId)?.composite === undefined && !supersedes(h, o) && (rank(o) > rank(h) || supersedes(o, h));
  return hits.filter(
    (h) =>
      !hits.some((o) => o !== h && beats(o, h) && covers(o, h, len)) &&
      // the same secret found by a stronger rule elsewhere in the input also wins
      !hits.some((o) => o !== h && beats(o, h) && o.secret === h.secret),
  );
}

/**
 * Whether o's bytes include h's. A hit found in decoded content (base64, percent-encoding) stands
 * for the whole encoded segment, whose extent only its line and columns tell.
 */
function covers(o: Hit, h: Hit, len: (h: Hit) => number): boolean {
  if (o.decodedFrom === undefined) return o.offset <= h.offset && o.offset + len(o) >= h.offset + len(h);
  const startsBefore = o.line < h.line || (o.line === h.line && o.column <= h.column);
  const endsAfter = o.endLine > h.endLine || (o.endLine === h.endLine && o.endColumn >= h.endColumn);
  return startsBefore && endsAfter;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareLocations(a: Location, b: Location): number {
  return (
    (a.rank ?? 0) - (b.rank ?? 0) ||
    cmp(a.path, b.path) ||
    a.line - b.line ||
    a.column - b.column ||
    cmp(JSON.stringify(a.properties ?? {}), JSON.stringify(b.properties ?? {}))
  );
}

/**
 * Drops locations under allowed paths, and findings left with none. Sources that learn a location's
 * path only after scanning (git history maps blobs to paths at the end) are filtered here.
 */
export function dropAllowedLocations(findings: Finding[], allowedPath: ((path: string) => boolean) | undefined): Finding[] {
  if (!allowedPath) return findings;
  const out: Finding[] = [];
  for (const f of findings) {
    const locations = f.locations.filter((l) => !allowedPath(l.path));
    if (locations.length === f.locations.length) out.push(f);
    else if (locations.length > 0) out.push({ ...f, locations });
  }
  return out;
}
