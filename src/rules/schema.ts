import type { Confidence, RuleDefinition, Severity } from '../core/types.js';

/** A problem in a declarative rule or config file, with the line it is on when known. */
export interface SchemaProblem {
  message: string;
  /** Dotted path into the document, e.g. rules.3.pattern */
  path: (string | number)[];
}

const CONFIDENCES: readonly Confidence[] = ['high', 'medium', 'low'];
const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
const ID_RE = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
const KNOWN_KEYS = new Set([
  'id', 'title', 'provider', 'description', 'pattern', 'boundary', 'entropy', 'validate', 'allow',
  'confidence', 'severity', 'rotation', 'identity', 'examples', 'negatives', 'composite', 'supersedes',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, path: (string | number)[], problems: SchemaProblem[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push({ message: 'must be a list of strings', path });
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else problems.push({ message: 'must be a string', path: [...path, i] });
  });
  return out;
}

/**
 * Checks one rule object (as parsed from YAML) and returns the typed definition,
 * or undefined with problems recorded. I/O free: the loader supplies the object.
 */
export function parseRule(
  raw: unknown,
  path: (string | number)[],
  defaults: { provider?: string },
  problems: SchemaProblem[],
): RuleDefinition | undefined {
  if (!isRecord(raw)) {
    problems.push({ message: 'a rule must be a mapping', path });
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS.has(key)) problems.push({ message: `unknown key '${key}'`, path: [...path, key] });
  }
  const str = (key: string, required: boolean): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) {
      if (required) problems.push({ message: `missing required '${key}'`, path });
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0) {
      problems.push({ message: `'${key}' must be a non-empty string`, path: [...path, key] });
      return undefined;
    }
    return v;
  };
  const id = str('id', true);
  if (id !== undefined && !ID_RE.test(id)) {
    problems.push({ message: `id '${id}' must be kebab-case (a-z, 0-9, -)`, path: [...path, 'id'] });
  }
  const title = str('title', true);
  const provider = str('provider', false) ?? defaults.provider;
  if (provider === undefined) problems.push({ message: "missing 'provider' (on the rule or the file)", path });
  const compositeRaw = raw['composite'];
  let composite: RuleDefinition['composite'];
  if (compositeRaw !== undefined) {
    const c = compositeRaw as Record<string, unknown>;
    const parts = isRecord(compositeRaw) ? stringList(c['parts'], [...path, 'composite', 'parts'], problems) : [];
    const window = isRecord(compositeRaw) ? c['window'] ?? 5 : undefined;
    if (!isRecord(compositeRaw) || parts.length < 2 || typeof window !== 'number' || window < 0) {
      problems.push({ message: "'composite' needs 'parts' (two or more rule ids) and a 'window' of lines", path: [...path, 'composite'] });
    } else composite = { parts, window };
  }
  const pattern = str('pattern', composite === undefined);
  const boundaryRaw = raw['boundary'] ?? 'word';
  if (boundaryRaw !== 'word' && boundaryRaw !== 'none') {
    problems.push({ message: "'boundary' must be 'word' or 'none'", path: [...path, 'boundary'] });
  }
  let entropy: number | undefined;
  if (raw['entropy'] !== undefined) {
    if (typeof raw['entropy'] !== 'number' || raw['entropy'] < 0 || raw['entropy'] > 8) {
      problems.push({ message: "'entropy' must be a number between 0 and 8", path: [...path, 'entropy'] });
    } else entropy = raw['entropy'];
  }
  const confidence = raw['confidence'] ?? 'medium';
  if (!CONFIDENCES.includes(confidence as Confidence)) {
    problems.push({ message: `'confidence' must be one of ${CONFIDENCES.join(', ')}`, path: [...path, 'confidence'] });
  }
  const severity = raw['severity'] ?? 'high';
  if (!SEVERITIES.includes(severity as Severity)) {
    problems.push({ message: `'severity' must be one of ${SEVERITIES.join(', ')}`, path: [...path, 'severity'] });
  }
  let rotation: RuleDefinition['rotation'];
  if (raw['rotation'] !== undefined) {
    const r = raw['rotation'];
    if (!isRecord(r)) problems.push({ message: "'rotation' must be a mapping with url and steps", path: [...path, 'rotation'] });
    else {
      rotation = {};
      if (typeof r['url'] === 'string') rotation.url = r['url'];
      if (typeof r['steps'] === 'string') rotation.steps = r['steps'];
    }
  }
  const rule: RuleDefinition = {
    id: id ?? '',
    title: title ?? '',
    provider: provider ?? '',
    pattern: pattern ?? '',
    boundary: boundaryRaw === 'none' ? 'none' : 'word',
    allow: stringList(raw['allow'], [...path, 'allow'], problems),
    confidence: confidence as Confidence,
    severity: severity as Severity,
    examples: stringList(raw['examples'], [...path, 'examples'], problems),
    negatives: stringList(raw['negatives'], [...path, 'negatives'], problems),
  };
  const description = str('description', false);
  if (description !== undefined) rule.description = description;
  const validate = str('validate', false);
  if (validate !== undefined) rule.validate = validate;
  const identity = str('identity', false);
  if (identity !== undefined) rule.identity = identity;
  if (entropy !== undefined) rule.entropy = entropy;
  if (composite !== undefined) rule.composite = composite;
  const supersedes = stringList(raw['supersedes'], [...path, 'supersedes'], problems);
  if (supersedes.length > 0) rule.supersedes = supersedes;
  if (rotation !== undefined) rule.rotation = rotation;
  return problems.length === before ? rule : undefined;
}
