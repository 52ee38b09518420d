import { renderJson, renderJsonl } from './json.js';
import { renderSarif } from './sarif.js';
import { renderText } from './text.js';
import type { Report, ReportFormat } from './types.js';

export function renderReport(report: Report, format: ReportFormat, color: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'jsonl':
      return renderJsonl(report);
    case 'sarif':
      return renderSarif(report);
    case 'text':
      return renderText(report, { color });
  }
}
