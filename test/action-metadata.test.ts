import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/cli.js';
import { actionMeta, actionYmlText, runBashStep, scanStep } from './action-helpers.js';
import { ACTION_INPUTS, ACTION_OUTPUTS, inputVariables } from '../src/action/env.js';

/**
 * action.yml against the metadata rules of GitHub Actions
 * (https://docs.github.com/en/actions/sharing-automations/creating-actions/metadata-syntax-for-github-actions)
 * and against what the entry point reads and writes.
 */

const meta = actionMeta();
const RUNS_USING = ['composite', 'node20', 'node24', 'docker'];
const ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;

describe('action.yml metadata', () => {
  it('has the required top-level keys: name, description, runs', () => {
    expect(typeof meta.name).toBe('string');
    expect((meta.name as string).length).toBeGreaterThan(0);
    expect(typeof meta.description).toBe('string');
    expect((meta.description as string).length).toBeGreaterThan(0);
    expect(meta.runs).toBeTypeOf('object');
    expect(RUNS_USING).toContain(meta.runs!.using);
    const top = Object.keys(meta as object);
    for (const k of top) expect(['name', 'author', 'description', 'inputs', 'outputs', 'runs', 'branding']).toContain(k);
  });

  it('inputs: valid ids, a description each, string defaults, boolean required', () => {
    for (const [id, input] of Object.entries(meta.inputs ?? {})) {
      expect(id, id).toMatch(ID);
      expect(typeof input.description, id).toBe('string');
      if (input.default !== undefined) expect(typeof input.default, `${id} default`).toBe('string');
      if (input.required !== undefined) expect(typeof input.required, `${id} required`).toBe('boolean');
      for (const k of Object.keys(input)) expect(['description', 'required', 'default', 'deprecationMessage'], id).toContain(k);
    }
  });

  it('outputs of a composite action: a description and a value each', () => {
    for (const [id, output] of Object.entries(meta.outputs ?? {})) {
      expect(id).toMatch(ID);
      expect(typeof output.description, id).toBe('string');
      expect(output.value, id).toBe(`\${{ steps.scan.outputs.${id} }}`);
    }
  });

  it('composite steps: run steps name a shell, uses steps name an action at a version, ids are unique', () => {
    const steps = meta.runs!.steps!;
    expect(steps.length).toBeGreaterThan(0);
    const ids = new Set<string>();
    for (const s of steps) {
      expect('run' in s !== 'uses' in s, JSON.stringify(s)).toBe(true);
      if ('run' in s) expect(s['shell'], String(s['name'])).toBe('bash');
      if ('uses' in s) expect(s['uses']).toMatch(/^[\w.-]+\/[\w./-]+@v\d+$/);
      if (typeof s['id'] === 'string') {
        expect(s['id']).toMatch(ID);
        expect(ids.has(s['id'])).toBe(false);
        ids.add(s['id']);
      }
    }
  });

  it('every input the entry point reads is declared with the same default, and every declared input is read', () => {
    const declared = meta.inputs ?? {};
    expect(Object.keys(declared).sort()).toEqual(Object.keys(ACTION_INPUTS).sort());
    for (const [id, dflt] of Object.entries(ACTION_INPUTS)) expect(declared[id]!.default, id).toBe(dflt);
    // and the entry point's source really reads each one (by literal id)
    const source = readdirSync(join(repoRoot, 'src', 'action')).map((f) => readFileSync(join(repoRoot, 'src', 'action', f), 'utf8')).join('\n');
    for (const id of Object.keys(ACTION_INPUTS)) expect(source, id).toMatch(new RegExp(`(input|bool|lines|optionalPath)\\((env, )?'${id}'`));
  });

  it('the scan step hands every input to the entry point under the variable it reads (composite actions get no INPUT_*)', () => {
    const { env, run } = scanStep(meta);
    const expected = Object.fromEntries(Object.keys(ACTION_INPUTS).map((id) => [inputVariables(id)[0]!, `\${{ inputs.${id} }}`]));
    expect(env).toEqual(expected);
    expect(run).toBe('node "$GITHUB_ACTION_PATH/bin/leakhound.js" action');
  });

  it('every inputs.X and steps.X.outputs reference in action.yml exists', () => {
    const text = actionYmlText();
    for (const m of text.matchAll(/inputs\.([A-Za-z0-9_-]+)/g)) expect(Object.keys(meta.inputs ?? {}), m[0]).toContain(m[1]);
    const ids = new Set(meta.runs!.steps!.map((s) => s['id']).filter((x) => typeof x === 'string'));
    for (const m of text.matchAll(/steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)) expect(ids.has(m[1]!), m[0]).toBe(true);
  });

  it('outputs are exactly what the entry point writes', () => {
    expect(Object.keys(meta.outputs ?? {}).sort()).toEqual([...ACTION_OUTPUTS].sort());
  });

  it('the dependency-cache step computes a key from package-lock.json and lists what to cache', () => {
    const step = meta.runs!.steps!.find((s) => s['id'] === 'deps')!;
    const dir = mkdtempSync(join(tmpdir(), 'leakhound-deps-'));
    try {
      const out = join(dir, 'out');
      const run = (cwd: string) => {
        writeFileSync(out, '');
        const r = runBashStep(String(step['run']), dir, { cwd, env: { PATH: process.env['PATH'] ?? '', GITHUB_OUTPUT: out } });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const text = readFileSync(out, 'utf8');
        const key = /^key=(.+)$/m.exec(text)![1]!;
        const paths = /^paths<<LEAKHOUND_PATHS\n([\s\S]*?)\nLEAKHOUND_PATHS$/m.exec(text)![1]!.split('\n');
        return { key, paths };
      };
      // this checkout has a built dist/: only node_modules is cached, keyed on the lock file
      const built = run(repoRoot);
      expect(built.key).toMatch(new RegExp(`^leakhound-deps-v1-${process.platform}-${process.arch}-node${process.versions.modules}-[0-9a-f]{20}$`));
      expect(built.paths).toEqual([join(repoRoot, 'node_modules')]);
      // a ref without dist/: dist is cached too, keyed on the sources as well
      const src = join(dir, 'action');
      mkdirSync(join(src, 'src'), { recursive: true });
      writeFileSync(join(src, 'package-lock.json'), readFileSync(join(repoRoot, 'package-lock.json')));
      writeFileSync(join(src, 'tsconfig.json'), '{}');
      writeFileSync(join(src, 'src', 'a.ts'), 'export {};\n');
      const fromSource = run(src);
      expect(fromSource.key).toMatch(new RegExp(`^${built.key}-src-[0-9a-f]{20}$`));
      expect(fromSource.paths).toEqual([join(src, 'node_modules'), join(src, 'dist')]);
      writeFileSync(join(src, 'src', 'a.ts'), 'export const x = 1;\n');
      expect(run(src).key).not.toBe(fromSource.key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
