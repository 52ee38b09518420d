import type { Finding, RuleDefinition, ScanStats } from '../core/types.js';

/** Everything a reporter needs: findings, the rules that fired, and the scan's context. Nothing source-specific. */
export interface Report {
  /** What was scanned: 'dir', 'git', 'image', 'logs', ... */
  source: string;
  /** Absolute directory report paths are relative to; SARIF's %SRCROOT%. */
  baseDir: string;
  findings: Finding[];
  rules: ReadonlyMap<string, RuleDefinition>;
  stats: ScanStats;
}

export type ReportFormat = 'text' | 'json' | 'jsonl' | 'sarif';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'jsonl', 'sarif'];
