import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helpers/cli.js';

/**
 * Runs the Action's scan step the way the runner runs a composite action: the step's `env:` from
 * action.yml with `${{ inputs.X }}` filled in (declared defaults for inputs not given), GITHUB_*
 * variables pointing at temporary files, then the step's `run:` line in bash.
 */

export interface ActionMeta {
  name?: unknown;
  description?: unknown;
  inputs?: Record<string, { description?: unknown; required?: unknown; default?: unknown }>;
  outputs?: Record<string, { description?: unknown; value?: unknown }>;
  runs?: { using?: unknown; steps?: Record<string, unknown>[] };
}

export const actionYmlText = (): string => readFileSync(join(repoRoot, 'action.yml'), 'utf8');
export const actionMeta = (): ActionMeta => parse(actionYmlText()) as ActionMeta;

export function scanStep(meta: ActionMeta): { env: Record<string, string>; run: string } {
  const step = meta.runs?.steps?.find((s) => s['id'] === 'scan');
  if (step === undefined) throw new Error('action.yml has no step with id: scan');
  return { env: step['env'] as Record<string, string>, run: step['run'] as string };
}

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  annotations: string[];
  /** Every file the run wrote that a secret must never reach, joined. */
  everything: string;
  sarif?: { runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } }; properties?: Record<string, unknown> }[]; properties: Record<string, unknown> }[]; properties: Record<string, unknown> }[] };
}

/** A `shell: bash` step as the runner runs it: the script in a file, `bash --noprofile --norc -eo pipefail FILE`. */
export function runBashStep(script: string, scratch: string, options: { cwd: string; env: Record<string, string> }): { status: number | null; stdout: string; stderr: string } {
  const file = join(scratch, `step-${++counter}.sh`);
  writeFileSync(file, script);
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

let counter = 0;

export function runActionStep(opts: {
  workspace: string;
  tmp: string;
  eventName?: string;
  event?: unknown;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
}): ActionRun {
  const meta = actionMeta();
  const step = scanStep(meta);
  const n = ++counter;
  const dir = join(opts.tmp, `run-${n}`);
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: opts.tmp,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/nonexistent/leakhound-test-none',
    NO_COLOR: '1',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'octo-org/demo',
    GITHUB_ACTION_PATH: repoRoot,
    RUNNER_TEMP: join(dir, 'temp'),
  };
  if (opts.eventName !== undefined) env['GITHUB_EVENT_NAME'] = opts.eventName;
  if (opts.event !== undefined) {
    const eventFile = join(dir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(opts.event, null, 2));
    env['GITHUB_EVENT_PATH'] = eventFile;
  }
  for (const [name, expr] of Object.entries(step.env)) {
    const m = /^\$\{\{ inputs\.([A-Za-z0-9_-]+) \}\}$/.exec(expr);
    if (m === null) throw new Error(`unexpected env value ${expr}`);
    const id = m[1]!;
    const given = opts.inputs?.[id];
    const dflt = meta.inputs?.[id]?.default;
    env[name] = given ?? (typeof dflt === 'string' ? dflt : '');
  }
  Object.assign(env, opts.env ?? {});
  const r = runBashStep(step.run, dir, { cwd: opts.workspace, env });
  const outputText = readFileSync(outputFile, 'utf8');
  const outputs: Record<string, string> = {};
  for (const m of outputText.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2\n/gm)) outputs[m[1]!] = m[3]!;
  const summary = readFileSync(summaryFile, 'utf8');
  const sarifPath = outputs['sarif'];
  const sarifText = sarifPath !== undefined && existsSync(sarifPath) ? readFileSync(sarifPath, 'utf8') : undefined;
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    outputs,
    summary,
    annotations: r.stdout.split('\n').filter((l) => l.startsWith('::')),
    everything: [r.stdout, r.stderr, outputText, summary, sarifText ?? ''].join('\n'),
    ...(sarifText !== undefined ? { sarif: JSON.parse(sarifText) as ActionRun['sarif'] } : {}),
  };
}

/** Decodes a workflow-command property or message (%25, %0D, %0A, %3A, %2C). */
export function unescapeCommand(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}

/** Parses `::level k=v,k=v::message` into its parts (decoded). */
export function parseAnnotation(line: string): { level: string; props: Record<string, string>; message: string } {
  const m = /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line);
  if (m === null) throw new Error(`not a workflow command: ${line}`);
  const props: Record<string, string> = {};
  for (const kv of (m[2] ?? '').split(',').filter(Boolean)) {
    const i = kv.indexOf('=');
    props[kv.slice(0, i)] = unescapeCommand(kv.slice(i + 1));
  }
  return { level: m[1]!, props, message: unescapeCommand(m[3]!) };
}
