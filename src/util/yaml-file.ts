import { createRequire } from 'node:module';
import type { Node } from 'yaml';
import { UserError } from '../core/errors.js';

/** Loaded on first use (about 25 ms): a scan with cached rules and no config file never parses YAML. */
let yamlModule: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

/** A parsed YAML file that can say on which line a value stands, for error messages. */
export interface YamlFile {
  value: unknown;
  /** 1-based line of the node at `path`, or of its nearest existing parent. */
  lineOf(path: (string | number)[]): number;
  file: string;
}

export function parseYamlFile(text: string, file: string): YamlFile {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line ?? lineCounter.linePos(err.pos[0]).line;
    const message = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    throw new UserError(`${file}:${line}: invalid YAML: ${message}`);
  }
  const lineOf = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      const range = (node as Node | undefined)?.range;
      if (range && (n === 0 || node !== undefined)) {
        return lineCounter.linePos(range[0]).line;
      }
      if (n === 0) break;
    }
    return 1;
  };
  const value: unknown = doc.contents === null ? null : doc.toJS({ maxAliasCount: 100 });
  return { value, lineOf, file };
}
