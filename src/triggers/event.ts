import { createHash } from 'node:crypto';
import type { Confidence, Finding, Location, PropertyValue, RuleDefinition, Severity } from '../core/types.js';
import { toolName, toolVersion } from '../version.js';

/**
 * A rotation trigger, version 1: what a team's rotation automation consumes.
 * The JSON Schema is schemas/trigger-v1.schema.json; it never contains the secret.
 */
export interface TriggerEvent {
  type: 'leakhound.rotation-trigger';
  version: 1;
  /** Derived from the fingerprint: the same secret always has the same trigger id (idempotency key). */
  id: string;
  createdAt: string;
  fingerprint: string;
  rule: { id: string; title: string };
  provider: string;
  severity: Severity;
  confidence: Confidence;
  /** Non-secret identity of the credential (AWS access key id, GitHub token kind...), when known. */
  identity?: string;
  /** Where the secret was first found. */
  location: TriggerLocation;
  firstSeen: string;
  /** How many places the secret was found in the scan that triggered. */
  locations: number;
  scanner: { name: string; version: string };
  rotation?: { url?: string; steps?: string };
}

export interface TriggerLocation {
  /** The scanning command: dir, git, image, logs... */
  source: string;
  /** What was scanned: the image reference, the repository, or the scan root. */
  target: string;
  path: string;
  line: number;
  column: number;
  commit?: string;
  layer?: string;
  properties?: Record<string, PropertyValue>;
}

/** A stable UUID (version 8, name-based) for a fingerprint. */
export function triggerId(fingerprint: string): string {
  const h = createHash('sha256').update('leakhound-trigger-v1\0').update(fingerprint).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The non-secret description of a location, as the store and the trigger keep it. */
export function describeLocation(l: Location, source: string, baseDir: string): TriggerLocation {
  const p = l.properties ?? {};
  const text = (k: string): string | undefined => (typeof p[k] === 'string' && p[k] !== '' ? (p[k] as string) : undefined);
  const commit = text('commit');
  const layer = text('layer') ?? text('layerDigest') ?? (typeof p['layerIndex'] === 'number' ? String(p['layerIndex']) : undefined);
  return {
    source,
    target: text('image') ?? text('repo') ?? text('repository') ?? baseDir,
    path: l.path,
    line: l.line,
    column: l.column,
    ...(commit !== undefined ? { commit } : {}),
    ...(layer !== undefined ? { layer } : {}),
    ...(l.properties && Object.keys(l.properties).length > 0 ? { properties: { ...l.properties } } : {}),
  };
}

export function buildEvent(finding: Finding, rule: RuleDefinition | undefined, location: TriggerLocation, firstSeen: string, now: string): TriggerEvent {
  const rotation = rule?.rotation;
  return {
    type: 'leakhound.rotation-trigger',
    version: 1,
    id: triggerId(finding.fingerprint),
    createdAt: now,
    fingerprint: finding.fingerprint,
    rule: { id: finding.ruleId, title: finding.title },
    provider: finding.provider,
    severity: finding.severity,
    confidence: finding.confidence,
    ...(finding.identity !== undefined ? { identity: finding.identity } : {}),
    location,
    firstSeen,
    locations: finding.locations.length + (finding.omittedLocations ?? 0),
    scanner: { name: toolName, version: toolVersion },
    ...(rotation && (rotation.url !== undefined || rotation.steps !== undefined)
      ? {
          rotation: {
            ...(rotation.url !== undefined ? { url: rotation.url } : {}),
            ...(rotation.steps !== undefined ? { steps: rotation.steps } : {}),
          },
        }
      : {}),
  };
}
