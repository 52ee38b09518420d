import type { Finding, Severity } from '../core/types.js';
import type { Report } from './types.js';

export interface TextOptions {
  color: boolean;
  /** Locations listed per finding before "+ N more". */
  maxLocations?: number;
}

const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

function painter(color: boolean) {
  const wrap = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: wrap('31'), yellow: wrap('33'), cyan: wrap('36'), dim: wrap('2'), bold: wrap('1'), magenta: wrap('35') };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

function locationText(f: Finding, i: number): string {
  const l = f.locations[i]!;
  const props = l.properties;
  let extra = '';
  if (props) {
    const parts: string[] = [];
    if (typeof props['commit'] === 'string') parts.push(`commit ${props['commit'].slice(0, 12)}`);
    if (typeof props['author'] === 'string') parts.push(String(props['author']));
    if (typeof props['date'] === 'string') parts.push(String(props['date']));
    if (typeof props['layerIndex'] === 'number') parts.push(`layer ${props['layerIndex']}`);
    if (props['deletedInLayer'] !== undefined) parts.push(`deleted in layer ${String(props['deletedInLayer'])}`);
    if (props['unreachable'] === true) parts.push('unreachable object');
    if (parts.length > 0) extra = `  (${parts.join(', ')})`;
  }
  return `${l.path}:${l.line}:${l.column}${extra}`;
}

/** Human-readable report: one block per finding, then a summary line. */
export function renderText(report: Report, options: TextOptions): string {
  const p = painter(options.color);
  const max = options.maxLocations ?? 5;
  const sevColor = (s: Severity) => (s === 'critical' || s === 'high' ? p.red : s === 'medium' ? p.yellow : p.cyan);
  const out: string[] = [];
  for (const f of report.findings) {
    const conf = f.confidence === 'high' ? '' : p.dim(` ${f.confidence} confidence`);
    out.push(`${sevColor(f.severity)(f.severity.toUpperCase().padEnd(8))} ${p.bold(f.title)} ${p.dim(`[${f.ruleId}]`)}${conf}`);
    const secretShown = f.secret !== undefined ? p.magenta(f.secret.includes('\n') ? f.secret.split('\n')[0]! + ' …' : f.secret) : f.redacted;
    const ident = f.identity !== undefined ? `  identity ${f.identity}` : '';
    out.push(`         ${secretShown}  ${p.dim(`fingerprint ${f.fingerprint.slice(0, 16)}`)}${ident}`);
    const shown = Math.min(max, f.locations.length);
    for (let i = 0; i < shown; i++) out.push(`         ${locationText(f, i)}`);
    const more = f.locations.length - shown + (f.omittedLocations ?? 0);
    if (more > 0) out.push(p.dim(`         + ${plural(more, 'more location')}`));
    out.push('');
  }
  out.push(summaryLine(report, p.bold));
  return out.join('\n') + '\n';
}

export function summaryLine(report: Report, bold: (s: string) => string = (s) => s): string {
  const s = report.stats;
  const counts = SEVERITY_ORDER.map((sev) => [sev, report.findings.filter((f) => f.severity === sev).length] as const)
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`);
  const head =
    report.findings.length === 0
      ? 'No secrets found'
      : `${plural(report.findings.length, 'secret')} found (${counts.join(', ')})`;
  const skipped: string[] = [];
  if (s.skippedBinary > 0) skipped.push(`${s.skippedBinary} binary`);
  if (s.skippedSymlinks > 0) skipped.push(`${s.skippedSymlinks} symlinks`);
  if (s.skippedUnreadable > 0) skipped.push(`${s.skippedUnreadable} unreadable`);
  if (s.skippedIgnored > 0) skipped.push(`${s.skippedIgnored} ignored`);
  const skip = skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : '';
  return `${bold(head)} in ${plural(s.filesScanned, 'file')} (${formatBytes(s.bytesScanned)})${skip}.`;
}
