import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../core/errors.js';

/**
 * Every input the Action's entry point reads. action.yml declares exactly these (a test checks both
 * ways) and, being a composite action, hands each one to the entry point as an environment variable:
 * the runner sets INPUT_* variables for JavaScript and Docker actions only. The values are the
 * defaults, the same strings as in action.yml: an input that is unset or empty takes its default.
 */
export const ACTION_INPUTS = {
  scan: 'auto',
  range: '',
  paths: '.',
  config: '',
  baseline: '',
  'fail-on': 'any',
  sarif: '',
  summary: 'true',
  annotations: 'true',
  incremental: 'true',
  'state-dir': '.leakhound',
  sinks: '',
} as const;
export type InputId = keyof typeof ACTION_INPUTS;

/** Outputs the entry point writes to GITHUB_OUTPUT; action.yml declares exactly these. */
export const ACTION_OUTPUTS = ['findings', 'sarif', 'scanned'] as const;

/** The runner's variable for an input: INPUT_ + id upper-cased, spaces to '_' (JavaScript actions keep '-'). */
export function inputVariables(id: string): string[] {
  const name = `INPUT_${id.replace(/ /g, '_').toUpperCase()}`;
  return name.includes('-') ? [name.replace(/-/g, '_'), name] : [name];
}

/** What the entry point knows about its run: the GITHUB_* variables and the inputs. */
export interface ActionEnv {
  eventName: string | undefined;
  event: Record<string, unknown>;
  workspace: string;
  /** RUNNER_TEMP: where the SARIF goes by default (outside the checkout). */
  tempDir: string | undefined;
  outputFile: string | undefined;
  summaryFile: string | undefined;
  /** https://github.com/OWNER/REPO, for commit links in the summary. */
  repoUrl: string | undefined;
  input(id: InputId): string;
  bool(id: InputId): boolean;
  lines(id: InputId): string[];
}

export function readActionEnv(env: NodeJS.ProcessEnv = process.env): ActionEnv {
  const workspace = resolve(env['GITHUB_WORKSPACE'] || process.cwd());
  const input = (id: InputId): string => {
    for (const name of inputVariables(id)) {
      const v = env[name];
      if (v !== undefined && v.trim() !== '') return v.trim();
    }
    return ACTION_INPUTS[id];
  };
  const server = env['GITHUB_SERVER_URL'];
  const repository = env['GITHUB_REPOSITORY'];
  return {
    eventName: env['GITHUB_EVENT_NAME'] || undefined,
    event: readEvent(env['GITHUB_EVENT_PATH']),
    workspace,
    tempDir: env['RUNNER_TEMP'] || undefined,
    outputFile: env['GITHUB_OUTPUT'] || undefined,
    summaryFile: env['GITHUB_STEP_SUMMARY'] || undefined,
    repoUrl: server && repository ? `${server.replace(/\/+$/, '')}/${repository}` : undefined,
    input,
    bool(id) {
      // the YAML 1.2 core schema booleans, as @actions/core's getBooleanInput accepts them
      const v = input(id);
      if (/^(true|True|TRUE)$/.test(v)) return true;
      if (/^(false|False|FALSE)$/.test(v)) return false;
      throw new UserError(`input '${id}' must be true or false, got '${v}'`);
    },
    lines(id) {
      return input(id)
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
    },
  };
}

function readEvent(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read the event payload GITHUB_EVENT_PATH=${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserError(`the event payload ${path} is not JSON`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`the event payload ${path} is not a JSON object`);
  return doc as Record<string, unknown>;
}

/** A path input, relative to the workspace; optionally it must exist. */
export function workspacePath(env: ActionEnv, value: string, what: string, mustExist = false): string {
  const abs = isAbsolute(value) ? value : resolve(env.workspace, value);
  if (mustExist && !existsSync(abs)) throw new UserError(`${what}: ${value} does not exist`);
  return abs;
}
