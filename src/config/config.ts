import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import RE2 from 're2';
import type { RuleDefinition } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { parseYamlFile, type YamlFile } from '../util/yaml-file.js';
import { parseRule, type SchemaProblem } from '../rules/schema.js';
import { parseTriggersSections, type TriggersConfig } from '../triggers/config.js';

export const CONFIG_FILE_NAME = '.leakhound.yaml';

/** What a .leakhound.yaml says, validated. */
export interface Config {
  file?: string;
  disableRules: string[];
  addRules: RuleDefinition[];
  /** Globs (relative to the scan root) that are never scanned. */
  allowPaths: string[];
  /** RE2 patterns; a secret matching one is not reported. */
  allowRegexes: string[];
  /** Fingerprints of known, accepted findings. */
  allowFingerprints: string[];
  /** The `triggers` and `sinks` sections (rotation triggers), when present. */
  triggers?: TriggersConfig;
}

export const emptyConfig = (): Config => ({
  disableRules: [],
  addRules: [],
  allowPaths: [],
  allowRegexes: [],
  allowFingerprints: [],
});

const TOP_KEYS = new Set(['rules', 'allow', 'triggers', 'sinks']);

/** Parses config text; every problem names the file and line. */
export function parseConfig(text: string, file: string): Config {
  const yaml = parseYamlFile(text, file);
  const fail = (path: (string | number)[], message: string): never => {
    throw new UserError(`${file}:${yaml.lineOf(path)}: ${message}`);
  };
  const doc = yaml.value;
  const config = emptyConfig();
  config.file = file;
  if (doc === null || doc === undefined) return config;
  if (typeof doc !== 'object' || Array.isArray(doc)) fail([], 'the config must be a mapping');
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!TOP_KEYS.has(key)) fail([key], `unknown key '${key}' (expected rules, allow, triggers, sinks)`);
  }
  const strings = (v: unknown, path: (string | number)[]): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return fail(path, `'${path.join('.')}' must be a list of strings`);
    return v.map((item, i) => (typeof item === 'string' ? item : fail([...path, i], `'${path.join('.')}' entries must be strings`)));
  };
  const section = (name: string, keys: string[]): Record<string, unknown> => {
    const v = top[name];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) return fail([name], `'${name}' must be a mapping`);
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) fail([name, k], `unknown key '${name}.${k}' (expected ${keys.join(', ')})`);
    }
    return v as Record<string, unknown>;
  };
  const rules = section('rules', ['disable', 'add']);
  config.disableRules = strings(rules['disable'], ['rules', 'disable']);
  const add = rules['add'];
  if (add !== undefined && add !== null) {
    if (!Array.isArray(add)) fail(['rules', 'add'], "'rules.add' must be a list of rules");
    const problems: SchemaProblem[] = [];
    (add as unknown[]).forEach((raw, i) => {
      const rule = parseRule(raw, ['rules', 'add', i], {}, problems);
      if (rule) config.addRules.push({ ...rule, file });
    });
    if (problems.length > 0) fail(problems[0]!.path, `${problems[0]!.path.join('.')}: ${problems[0]!.message}`);
  }
  const allow = section('allow', ['paths', 'regexes', 'fingerprints']);
  config.allowPaths = strings(allow['paths'], ['allow', 'paths']);
  config.allowRegexes = strings(allow['regexes'], ['allow', 'regexes']);
  config.allowRegexes.forEach((r, i) => checkRegex(r, yaml, ['allow', 'regexes', i]));
  config.allowFingerprints = strings(allow['fingerprints'], ['allow', 'fingerprints']);
  config.allowFingerprints.forEach((f, i) => {
    if (!/^[0-9a-f]{64}$/.test(f)) fail(['allow', 'fingerprints', i], 'a fingerprint is 64 lowercase hex characters');
  });
  const triggers = parseTriggersSections(top, file, fail);
  if (triggers) config.triggers = triggers;
  return config;
}

function checkRegex(source: string, yaml: YamlFile, path: (string | number)[]): void {
  try {
    new RE2(source);
  } catch (e) {
    throw new UserError(`${yaml.file}:${yaml.lineOf(path)}: '${source}' is not a valid RE2 pattern: ${(e as Error).message}`);
  }
}

/** Loads --config FILE, or .leakhound.yaml at the scan root when present. */
export function loadConfig(explicit: string | undefined, scanRoot: string): Config {
  const file = explicit ?? join(scanRoot, CONFIG_FILE_NAME);
  if (explicit === undefined && !existsSync(file)) return emptyConfig();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, file);
}

/** The built-in rules with the config's disabled ones removed and its own rules added. */
export function applyRuleConfig(builtin: RuleDefinition[], config: Config): RuleDefinition[] {
  const known = new Set(builtin.map((r) => r.id).concat(config.addRules.map((r) => r.id)));
  for (const id of config.disableRules) {
    if (!known.has(id)) throw new UserError(`${config.file ?? 'config'}: rules.disable names unknown rule '${id}'`);
  }
  const disabled = new Set(config.disableRules);
  return [...builtin, ...config.addRules].filter((r) => !disabled.has(r.id));
}
