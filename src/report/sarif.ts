import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import type { Finding, RuleDefinition, Severity } from '../core/types.js';
import { informationUri, toolName, toolVersion } from '../version.js';
import type { Report } from './types.js';

/** GitHub code scanning's upload limits. */
export const MAX_RESULTS_PER_RUN = 25_000;
export const MAX_LOCATIONS_PER_RESULT = 1_000;

const LEVEL: Record<Severity, Sarif.ReportingConfiguration.level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};

/** GitHub maps security-severity to critical (>= 9), high (>= 7), medium (>= 4), low. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
};

function pascalCase(id: string): string {
  return id.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

function ruleDescriptor(rule: RuleDefinition): Sarif.ReportingDescriptor {
  const rotate = rule.rotation?.steps ?? `Revoke this ${rule.provider} credential at the provider, issue a new one, and move it to a secret store.`;
  const helpText = `${rule.title}. A leaked credential stays valid until it is rotated: removing it from the code is not enough. ${rotate}${rule.rotation?.url ? ` See ${rule.rotation.url}` : ''}`;
  const helpMarkdown = [
    `**${rule.title}** (${rule.provider})`,
    '',
    rule.description ?? '',
    '',
    '**How to fix:** a leaked credential stays valid until it is rotated; deleting it from the code is not enough.',
    '',
    `1. ${rotate}`,
    '2. Store the new credential in a secret manager or CI secret, never in the repository.',
    '3. Check the provider\'s audit log for use of the old credential.',
    ...(rule.rotation?.url ? ['', `Provider documentation: ${rule.rotation.url}`] : []),
  ].join('\n');
  const descriptor: Sarif.ReportingDescriptor = {
    id: rule.id,
    name: pascalCase(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.description ?? `${rule.title} (${rule.provider}).` },
    help: { text: helpText, markdown: helpMarkdown },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: {
      tags: ['security', 'secret', rule.provider],
      precision: rule.confidence === 'high' ? 'very-high' : rule.confidence,
      'security-severity': SECURITY_SEVERITY[rule.severity],
    },
  };
  if (rule.rotation?.url) descriptor.helpUri = rule.rotation.url;
  return descriptor;
}

function artifactLocation(path: string): Sarif.ArtifactLocation {
  if (path.startsWith('/')) return { uri: pathToFileURL(path).href };
  return { uri: path.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function result(f: Finding, ruleIndex: number): Sarif.Result {
  const locations = f.locations.slice(0, MAX_LOCATIONS_PER_RESULT);
  const omitted = f.locations.length - locations.length + (f.omittedLocations ?? 0);
  const where = f.locations.length === 1 ? '' : ` (${f.locations.length} locations)`;
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: `${f.title} found: ${f.redacted}${where}. Rotate it: removing it from the code does not revoke it.` },
    locations: locations.map((l) => {
      const loc: Sarif.Location = {
        physicalLocation: {
          artifactLocation: artifactLocation(l.path),
          region: { startLine: l.line, startColumn: l.column, endLine: l.endLine, endColumn: l.endColumn },
        },
      };
      if (l.properties) loc.properties = { ...l.properties };
      return loc;
    }),
    partialFingerprints: { 'leakhoundSecret/v1': f.fingerprint },
    properties: {
      confidence: f.confidence,
      provider: f.provider,
      redacted: f.redacted,
      locationCount: f.locations.length + (f.omittedLocations ?? 0),
      ...(omitted > 0 ? { omittedLocations: omitted } : {}),
      ...(f.identity !== undefined ? { identity: f.identity } : {}),
    },
  };
}

/** SARIF 2.1.0 for GitHub code scanning. Never contains a secret, even with --show-secrets. */
export function renderSarif(report: Report): string {
  const findings = report.findings.slice(0, MAX_RESULTS_PER_RUN);
  const firedIds = [...new Set(findings.map((f) => f.ruleId))].sort();
  const index = new Map(firedIds.map((id, i) => [id, i]));
  const rules = firedIds.map((id) => ruleDescriptor(report.rules.get(id)!));
  const run: Sarif.Run = {
    tool: {
      driver: {
        name: toolName,
        version: toolVersion,
        semanticVersion: toolVersion,
        informationUri,
        rules,
      },
    },
    originalUriBaseIds: {
      '%SRCROOT%': { uri: pathToFileURL(report.baseDir.endsWith('/') ? report.baseDir : report.baseDir + '/').href },
    },
    results: findings.map((f) => result(f, index.get(f.ruleId)!)),
    columnKind: 'utf16CodeUnits',
    properties: {
      source: report.source,
      findings: report.findings.length,
      ...(report.findings.length > findings.length ? { omittedResults: report.findings.length - findings.length } : {}),
    },
  };
  const log: Sarif.Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [run],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
