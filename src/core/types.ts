/**
 * The shapes shared by every stage of the pipeline:
 * sources produce chunks with an Origin, the engine turns chunks into Hits,
 * the findings pipeline turns Hits into Findings, reporters render Findings.
 */

export type Confidence = 'high' | 'medium' | 'low';
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** A property value a source may attach to a location (commit sha, layer digest, ...). */
export type PropertyValue = string | number | boolean;

/** Where a chunk of bytes came from. Sources fill it; reporters read it; the engine never looks inside. */
export interface Origin {
  /** Path shown to the user and written to reports, relative to the scan root, '/'-separated. */
  path: string;
  /** Source-specific facts about the location (commit, author, layer, image...). */
  properties?: Record<string, PropertyValue>;
  /**
   * Orders locations of one finding; lower sorts first. Sources whose natural order is not
   * the path order (git: where a secret first entered history) set it. Default 0.
   */
  rank?: number;
}

/** A rule as declared in a rules/*.yaml file (after validation). */
export interface RuleDefinition {
  id: string;
  title: string;
  provider: string;
  description?: string;
  pattern: string;
  boundary: 'word' | 'none';
  entropy?: number;
  validate?: string;
  allow: string[];
  confidence: Confidence;
  severity: Severity;
  rotation?: { url?: string; steps?: string };
  identity?: string;
  examples: string[];
  negatives: string[];
  /**
   * A credential that comes in parts (key id + secret): reported as one finding when a hit of every
   * part rule stands within `window` lines of the first. Such a rule has no pattern of its own.
   */
  composite?: { parts: string[]; window: number };
  /** Rules this one is a more specific form of: where both match the same bytes, only this one reports. */
  supersedes?: string[];
  /** Derived, not written by hand: the rule's pattern for the multi-pattern pass, when cached. */
  prefilter?: string;
  /**
   * Derived (cached with the prefilter): at most how many bytes lie from a match's start to the end
   * of the factor occurrence it begins with, so the exact pattern can start searching that far
   * before the first factor the multi-pattern pass saw. -1: matches need not begin with a factor.
   */
  factorReach?: number;
  /**
   * Derived (cached with the prefilter): the rule's whole pattern as a Hyperscan superset
   * (engine/superset.ts), or '' when it has none.
   */
  superset?: string;
  /** File the rule was loaded from, for error messages. */
  file?: string;
}

/** One match of one rule, located in its chunk. Produced by the engine (in a worker). */
export interface Hit {
  ruleId: string;
  secret: string;
  /** 1-based line of the secret's first character. */
  line: number;
  /** 1-based column (UTF-16 code units) of the secret's first character. */
  column: number;
  endLine: number;
  /** 1-based column just past the secret's last character. */
  endColumn: number;
  /** Byte offset of the secret in the scanned input (whole file or blob). */
  offset: number;
  /** Non-secret identity of the credential (AWS key id...), when the rule declares one. */
  identity?: string;
  /** Set on hits found in decoded content (base64, percent-encoding): how it was encoded. */
  decodedFrom?: string;
}

export interface Location {
  path: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  properties?: Record<string, PropertyValue>;
  rank?: number;
}

/** One secret found by one rule, with every place it occurs. */
export interface Finding {
  ruleId: string;
  title: string;
  provider: string;
  severity: Severity;
  confidence: Confidence;
  /** sha-256 of rule id and secret, hex: stable across moves, never reversible. */
  fingerprint: string;
  /** The secret with all but a short prefix masked. */
  redacted: string;
  /** Present only when the user asked for --show-secrets. */
  secret?: string;
  identity?: string;
  locations: Location[];
  /** Locations beyond the report's cap that were dropped (SARIF: 1,000 per result). */
  omittedLocations?: number;
}

/** Counters a scan reports in its summary. */
export interface ScanStats {
  filesScanned: number;
  bytesScanned: number;
  skippedBinary: number;
  skippedSymlinks: number;
  skippedUnreadable: number;
  skippedIgnored: number;
  durationMs: number;
}

export function emptyStats(): ScanStats {
  return {
    filesScanned: 0,
    bytesScanned: 0,
    skippedBinary: 0,
    skippedSymlinks: 0,
    skippedUnreadable: 0,
    skippedIgnored: 0,
    durationMs: 0,
  };
}
