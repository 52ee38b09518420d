import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';

/**
 * Workflow commands (`::error file=...::message`) and the GITHUB_OUTPUT file, written the way the
 * runner parses them. Nothing here ever receives a secret: callers pass rule ids, paths, redacted
 * previews and commit ids only.
 */

/** Message text: the runner decodes %25, %0D, %0A. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Property values additionally escape ':' and ',' (they separate properties). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export type AnnotationLevel = 'error' | 'warning' | 'notice';

export interface Annotation {
  level: AnnotationLevel;
  message: string;
  title?: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
}

export function formatAnnotation(a: Annotation): string {
  const props: string[] = [];
  if (a.file !== undefined) {
    props.push(`file=${escapeProperty(a.file)}`);
    if (a.line !== undefined) {
      props.push(`line=${a.line}`);
      if (a.endLine !== undefined) props.push(`endLine=${a.endLine}`);
      // columns only mean something on a single-line annotation
      if (a.col !== undefined && (a.endLine === undefined || a.endLine === a.line)) {
        props.push(`col=${a.col}`);
        if (a.endColumn !== undefined) props.push(`endColumn=${a.endColumn}`);
      }
    }
  }
  if (a.title !== undefined) props.push(`title=${escapeProperty(a.title)}`);
  return `::${a.level}${props.length > 0 ? ' ' + props.join(',') : ''}::${escapeData(a.message)}`;
}

/**
 * Appends `name=value` pairs to GITHUB_OUTPUT in the heredoc form with a random delimiter, so a
 * value can never end the block early or inject another output.
 */
export function writeOutputs(file: string | undefined, outputs: Record<string, string>): void {
  const lines = Object.entries(outputs).map(([k, v]) => {
    let delimiter: string;
    do delimiter = `ghadelimiter_${randomBytes(16).toString('hex')}`;
    while (v.includes(delimiter));
    return `${k}<<${delimiter}\n${v}\n${delimiter}\n`;
  });
  if (file === undefined) {
    // outside Actions: show them in the log
    for (const [k, v] of Object.entries(outputs)) process.stdout.write(`leakhound: output ${k}=${v}\n`);
    return;
  }
  appendTo(file, lines.join(''), 'GITHUB_OUTPUT');
}

export function appendTo(file: string, text: string, what: string): void {
  try {
    appendFileSync(file, text);
  } catch (e) {
    throw new UserError(`cannot write ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
