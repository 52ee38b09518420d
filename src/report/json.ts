import type { Finding } from '../core/types.js';
import { toolName, toolVersion } from '../version.js';
import type { Report } from './types.js';

/** The JSON form of one finding; `secret` appears only when the collector was told to keep it. */
function findingJson(f: Finding): Record<string, unknown> {
  return {
    ruleId: f.ruleId,
    title: f.title,
    provider: f.provider,
    severity: f.severity,
    confidence: f.confidence,
    fingerprint: f.fingerprint,
    redacted: f.redacted,
    ...(f.secret !== undefined ? { secret: f.secret } : {}),
    ...(f.identity !== undefined ? { identity: f.identity } : {}),
    locations: f.locations.map((l) => ({
      path: l.path,
      line: l.line,
      column: l.column,
      endLine: l.endLine,
      endColumn: l.endColumn,
      ...(l.properties ? { properties: l.properties } : {}),
    })),
  };
}

function summary(report: Report): Record<string, unknown> {
  const s = report.stats;
  return {
    findings: report.findings.length,
    filesScanned: s.filesScanned,
    bytesScanned: s.bytesScanned,
    skipped: {
      binary: s.skippedBinary,
      symlinks: s.skippedSymlinks,
      unreadable: s.skippedUnreadable,
      ignored: s.skippedIgnored,
    },
  };
}

/** One JSON document; timing is left out so the same input always gives the same bytes. */
export function renderJson(report: Report): string {
  const doc = {
    tool: { name: toolName, version: toolVersion },
    source: report.source,
    summary: summary(report),
    findings: report.findings.map(findingJson),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** One finding per line, for streaming consumers. */
export function renderJsonl(report: Report): string {
  return report.findings.map((f) => JSON.stringify(findingJson(f)) + '\n').join('');
}
