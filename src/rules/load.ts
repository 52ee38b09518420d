import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleDefinition } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { parseYamlFile } from '../util/yaml-file.js';
import { parseRule, type SchemaProblem } from './schema.js';
import { packageRoot } from '../version.js';

export const builtinRulesDir = join(packageRoot, 'rules');

/** Parses one rule pack (the text of a rules/*.yaml file). Throws UserError naming file and line. */
export function parseRulePack(text: string, file: string): RuleDefinition[] {
  const yaml = parseYamlFile(text, file);
  const doc = yaml.value;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UserError(`${file}:1: a rule file must be a mapping with a 'rules' list`);
  }
  const pack = doc as Record<string, unknown>;
  const provider = typeof pack['provider'] === 'string' ? pack['provider'] : undefined;
  const rawRules = pack['rules'];
  if (!Array.isArray(rawRules)) throw new UserError(`${file}:${yaml.lineOf(['rules'])}: 'rules' must be a list`);
  const problems: SchemaProblem[] = [];
  const rules: RuleDefinition[] = [];
  rawRules.forEach((raw, i) => {
    const rule = parseRule(raw, ['rules', i], provider === undefined ? {} : { provider }, problems);
    if (rule) rules.push({ ...rule, file });
  });
  if (problems.length > 0) {
    const p = problems[0]!;
    throw new UserError(`${file}:${yaml.lineOf(p.path)}: ${p.path.join('.')}: ${p.message}`);
  }
  return rules;
}

/** Loads every *.yaml rule pack in a directory, sorted by file name, and checks ids are unique. */
export function loadRuleDir(dir: string = builtinRulesDir): RuleDefinition[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  const rules: RuleDefinition[] = [];
  for (const f of files) {
    const path = join(dir, f);
    rules.push(...parseRulePack(readFileSync(path, 'utf8'), path));
  }
  assertUniqueIds(rules);
  return rules;
}

export function assertUniqueIds(rules: RuleDefinition[]): void {
  const seen = new Map<string, string>();
  for (const r of rules) {
    const prev = seen.get(r.id);
    if (prev !== undefined) throw new UserError(`rule id '${r.id}' is defined twice (${prev} and ${r.file ?? 'config'})`);
    seen.set(r.id, r.file ?? 'config');
  }
}
