import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Finding, Location, Severity } from '../core/types.js';
import { formatAnnotation, type Annotation } from './commands.js';

/**
 * The Action's two views of the findings: workflow annotations on the lines, and the job summary
 * table. Both show the rule, place, commit and the redacted preview; never `Finding.secret`.
 */

export const MAX_ANNOTATIONS = 50;
export const MAX_SUMMARY_ROWS = 200;

export interface Presentation {
  /** Absolute directory the findings' paths are relative to. */
  baseDir: string;
  workspace: string;
  repoUrl: string | undefined;
  /** Findings that fail the step are errors; the rest are warnings. */
  fails(f: Finding): boolean;
}

const HIGH: ReadonlySet<Severity> = new Set(['high', 'critical']);
export const isHigh = (f: Finding): boolean => HIGH.has(f.severity);

/** The path of a location relative to the workspace ('/'-separated), or undefined when it is not a file there. */
export function workspaceFile(p: Presentation, l: Location): string | undefined {
  if (l.properties?.['unreachable'] === true || l.properties?.['taggedOnly'] === true) return undefined;
  const abs = isAbsolute(l.path) ? l.path : resolve(p.baseDir, l.path);
  const rel = relative(p.workspace, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

function commitOf(l: Location): string | undefined {
  const c = l.properties?.['commit'];
  return typeof c === 'string' ? c : undefined;
}

export function annotationFor(p: Presentation, f: Finding): Annotation {
  const l = f.locations[0]!;
  const file = workspaceFile(p, l);
  const commit = commitOf(l);
  const author = l.properties?.['author'];
  const more = f.locations.length > 1 ? ` It occurs in ${f.locations.length} places.` : '';
  const where = commit !== undefined ? ` Added in commit ${commit.slice(0, 12)}${typeof author === 'string' ? ` by ${author}` : ''}.` : '';
  const at = file === undefined ? ` At ${l.path}:${l.line}.` : '';
  return {
    level: p.fails(f) ? 'error' : 'warning',
    title: `leakhound: ${f.title} (${f.ruleId})`,
    message: `${f.title} ${f.redacted} (${f.severity} severity).${where}${at}${more} Rotate it: removing it from the code does not revoke it.`,
    ...(file !== undefined ? { file, line: l.line, endLine: l.endLine, col: l.column, endColumn: l.endColumn } : {}),
  };
}

/** One annotation per finding (at its first location), at most MAX_ANNOTATIONS, failing ones first. */
export function annotationLines(p: Presentation, findings: readonly Finding[]): string[] {
  const ordered = [...findings.filter((f) => p.fails(f)), ...findings.filter((f) => !p.fails(f))];
  const lines = ordered.slice(0, MAX_ANNOTATIONS).map((f) => formatAnnotation(annotationFor(p, f)));
  const rest = ordered.length - MAX_ANNOTATIONS;
  if (rest > 0) lines.push(formatAnnotation({ level: 'notice', message: `leakhound: ${rest} more findings are not annotated; see the job summary and the SARIF report` }));
  return lines;
}

/** Text for a Markdown table cell: every character Markdown or HTML could act on becomes an entity. */
export function cell(s: string): string {
  return s.replace(/[\\`*_[\]|<>&"'~\r\n]/g, (c) => (c === '\r' || c === '\n' ? ' ' : `&#${c.charCodeAt(0)};`));
}

const code = (s: string): string => `<code>${cell(s)}</code>`;
/** URLs here are built from encoded parts; only the attribute and table syntax need guarding. */
const link = (text: string, url: string | undefined): string =>
  url === undefined ? text : `<a href="${url.replace(/&/g, '&amp;').replace(/"/g, '%22').replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E')}">${text}</a>`;

export interface SummaryInput {
  describe: string;
  findings: readonly Finding[];
  failed: boolean;
  failOn: string;
  /** Findings from earlier incremental runs carried into the SARIF report. */
  carried: number;
  sarifPath: string;
}

export function summaryMarkdown(p: Presentation, s: SummaryInput): string {
  const n = s.findings.length;
  const out: string[] = [];
  out.push(`### leakhound: ${n === 0 ? 'no secrets found' : `${n} ${n === 1 ? 'secret' : 'secrets'} found`}`, '');
  const verdict = n === 0 ? '' : s.failed ? ` The step fails (fail-on: ${cell(s.failOn)}).` : ` The step does not fail (fail-on: ${cell(s.failOn)}).`;
  out.push(`Scanned: ${cell(s.describe)}.${verdict}`);
  if (n > 0) {
    out.push('', '| Rule | File | Line | Commit | Redacted |', '| --- | --- | --- | --- | --- |');
    for (const f of s.findings.slice(0, MAX_SUMMARY_ROWS)) out.push(row(p, f));
    if (n > MAX_SUMMARY_ROWS) out.push('', `${n - MAX_SUMMARY_ROWS} more findings are in the SARIF report.`);
    out.push('', 'A leaked credential stays valid until it is revoked: rotate each one at its provider, then remove it from the code.');
  }
  if (s.carried > 0) out.push('', `${s.carried} ${s.carried === 1 ? 'finding' : 'findings'} from earlier runs stay in the SARIF report (still in the history).`);
  out.push('', `SARIF: ${code(s.sarifPath)}`, '');
  return out.join('\n') + '\n';
}

function row(p: Presentation, f: Finding): string {
  const l = f.locations[0]!;
  const commit = commitOf(l);
  const file = workspaceFile(p, l);
  const fileUrl = p.repoUrl !== undefined && commit !== undefined && file !== undefined ? `${p.repoUrl}/blob/${commit}/${file.split('/').map(encodeURIComponent).join('/')}#L${l.line}` : undefined;
  const more = f.locations.length > 1 ? ` (+${f.locations.length - 1} more)` : '';
  const rule = `${code(f.ruleId)} ${cell(f.severity)}`;
  const path = link(code(file ?? l.path), fileUrl) + cell(more);
  const commitCell = commit === undefined ? '' : link(code(commit.slice(0, 7)), p.repoUrl !== undefined ? `${p.repoUrl}/commit/${commit}` : undefined);
  return `| ${rule} | ${path} | ${l.line} | ${commitCell} | ${code(f.redacted)} |`;
}
