import { dirname, isAbsolute, resolve } from 'node:path';
import type { Confidence, Severity } from '../core/types.js';
import { UserError } from '../core/errors.js';
import type { Config } from '../config/config.js';

export interface TriggerFlags {
  state?: string;
  sink?: string[];
}

/** Rotation triggers are on for a scan when the config has a triggers/sinks section or a flag asks. */
export function triggersEnabled(flags: TriggerFlags, config: Config): boolean {
  return config.triggers !== undefined || flags.state !== undefined || (flags.sink !== undefined && flags.sink.length > 0);
}

/**
 * The `triggers:` and `sinks:` sections of .leakhound.yaml, and the `--sink URL` flag.
 *
 * ```yaml
 * triggers:
 *   state: .leakhound/state.db   # relative to this file
 *   min-severity: high           # findings below this are recorded but do not trigger
 *   min-confidence: medium
 *   deliver: true                # deliver right after each scan (false: only queue)
 * sinks:
 *   - type: nats                 # nats | redis | webhook | jsonl
 *     url: nats://127.0.0.1:4222
 *     subject: secrets.rotate
 *     stream: SECRETS            # optional: created when missing
 * ```
 */

export interface NatsSinkSpec {
  type: 'nats';
  name: string;
  url: string;
  subject: string;
  stream?: string;
  timeoutMs: number;
}

export interface RedisSinkSpec {
  type: 'redis';
  name: string;
  url: string;
  stream: string;
  /** Seconds a trigger id is remembered for de-duplication. */
  dedupeTtl: number;
  timeoutMs: number;
}

export interface WebhookSinkSpec {
  type: 'webhook';
  name: string;
  url: string;
  /** Environment variable holding the HMAC secret (never the secret itself). */
  secretEnv: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  concurrency: number;
}

export interface JsonlSinkSpec {
  type: 'jsonl';
  name: string;
  /** Absolute path, or '-' for stdout. */
  path: string;
}

export type SinkSpec = NatsSinkSpec | RedisSinkSpec | WebhookSinkSpec | JsonlSinkSpec;
export type SinkType = SinkSpec['type'];

export interface TriggersConfig {
  /** Absolute path of the store, when the config names one. */
  state?: string;
  minSeverity: Severity;
  minConfidence: Confidence;
  /** Deliver to the sinks right after each scan. */
  deliver: boolean;
  sinks: SinkSpec[];
}

export const DEFAULT_STATE = '.leakhound/state.db';
export const DEFAULT_WEBHOOK_SECRET_ENV = 'LEAKHOUND_WEBHOOK_SECRET';
const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
const CONFIDENCES: Confidence[] = ['low', 'medium', 'high'];

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);
export const confidenceRank = (c: Confidence): number => CONFIDENCES.indexOf(c);

type Path = (string | number)[];
type Fail = (path: Path, message: string) => never;

const SINK_KEYS: Record<SinkType, string[]> = {
  nats: ['type', 'name', 'url', 'subject', 'stream', 'timeout'],
  redis: ['type', 'name', 'url', 'stream', 'dedupe-ttl', 'timeout'],
  webhook: ['type', 'name', 'url', 'secret-env', 'timeout', 'retries', 'backoff', 'concurrency'],
  jsonl: ['type', 'name', 'path'],
};

/**
 * Validates the `triggers` and `sinks` sections of a parsed config document; `fail` names the file
 * and line. Returns undefined when neither section is present (rotation triggers are off).
 */
export function parseTriggersSections(top: Record<string, unknown>, file: string, fail: Fail): TriggersConfig | undefined {
  const t = top['triggers'];
  const s = top['sinks'];
  if (t === undefined && s === undefined) return undefined;
  const base = dirname(resolve(file));
  const config: TriggersConfig = { minSeverity: 'low', minConfidence: 'low', deliver: true, sinks: [] };
  if (t !== undefined && t !== null) {
    if (typeof t !== 'object' || Array.isArray(t)) fail(['triggers'], "'triggers' must be a mapping");
    const keys = ['state', 'min-severity', 'min-confidence', 'deliver'];
    const section = t as Record<string, unknown>;
    for (const k of Object.keys(section)) {
      if (!keys.includes(k)) fail(['triggers', k], `unknown key 'triggers.${k}' (expected ${keys.join(', ')})`);
    }
    if (section['state'] !== undefined) config.state = resolve(base, str(section['state'], ['triggers', 'state'], fail));
    if (section['min-severity'] !== undefined) config.minSeverity = oneOf(section['min-severity'], SEVERITIES, ['triggers', 'min-severity'], fail);
    if (section['min-confidence'] !== undefined) config.minConfidence = oneOf(section['min-confidence'], CONFIDENCES, ['triggers', 'min-confidence'], fail);
    if (section['deliver'] !== undefined) {
      if (typeof section['deliver'] !== 'boolean') fail(['triggers', 'deliver'], "'triggers.deliver' must be true or false");
      config.deliver = section['deliver'] as boolean;
    }
  }
  if (s !== undefined && s !== null) {
    if (!Array.isArray(s)) fail(['sinks'], "'sinks' must be a list of sinks");
    (s as unknown[]).forEach((raw, i) => config.sinks.push(parseSink(raw, ['sinks', i], base, fail)));
  }
  checkUniqueNames(config.sinks, (i, m) => fail(['sinks', i], m));
  return config;
}

function parseSink(raw: unknown, path: Path, base: string, fail: Fail): SinkSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(path, 'a sink must be a mapping with a type');
  const m = raw as Record<string, unknown>;
  const type = oneOf(m['type'], Object.keys(SINK_KEYS) as SinkType[], [...path, 'type'], fail);
  for (const k of Object.keys(m)) {
    if (!SINK_KEYS[type].includes(k)) fail([...path, k], `unknown key '${k}' for a ${type} sink (expected ${SINK_KEYS[type].join(', ')})`);
  }
  const get = (k: string, def?: string): string => {
    if (m[k] === undefined) {
      if (def !== undefined) return def;
      return fail([...path, k], `a ${type} sink needs '${k}'`);
    }
    return str(m[k], [...path, k], fail);
  };
  const num = (k: string, def: number, min: number, max: number): number => {
    const v = m[k];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return fail([...path, k], `'${k}' must be an integer from ${min} to ${max}`);
    return v;
  };
  const name = m['name'] === undefined ? undefined : str(m['name'], [...path, 'name'], fail);
  const where = (msg: string): never => fail(path, msg);
  switch (type) {
    case 'nats': {
      const url = checkUrl(get('url'), ['nats:', 'tls:', 'ws:', 'wss:'], where);
      const subject = get('subject');
      checkSubject(subject, (msg) => fail([...path, 'subject'], msg));
      const stream = m['stream'] === undefined ? undefined : get('stream');
      if (stream !== undefined && !/^[A-Za-z0-9_-]+$/.test(stream)) fail([...path, 'stream'], `'${stream}' is not a valid JetStream stream name (letters, digits, _ and -)`);
      return { type, name: name ?? `nats:${subject}`, url, subject, ...(stream !== undefined ? { stream } : {}), timeoutMs: num('timeout', 5000, 1, 600_000) };
    }
    case 'redis': {
      const url = checkUrl(get('url'), ['redis:', 'rediss:'], where);
      const stream = get('stream');
      return { type, name: name ?? `redis:${stream}`, url, stream, dedupeTtl: num('dedupe-ttl', 7 * 86400, 1, 10 * 365 * 86400), timeoutMs: num('timeout', 5000, 1, 600_000) };
    }
    case 'webhook': {
      const url = checkUrl(get('url'), ['http:', 'https:'], where);
      const secretEnv = get('secret-env', DEFAULT_WEBHOOK_SECRET_ENV);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(secretEnv)) fail([...path, 'secret-env'], "'secret-env' names an environment variable holding the secret (not the secret itself)");
      return {
        type,
        name: name ?? webhookName(url),
        url,
        secretEnv,
        timeoutMs: num('timeout', 10_000, 1, 600_000),
        retries: num('retries', 5, 0, 20),
        backoffMs: num('backoff', 500, 0, 600_000),
        concurrency: num('concurrency', 8, 1, 256),
      };
    }
    case 'jsonl': {
      const p = get('path');
      const abs = p === '-' ? '-' : isAbsolute(p) ? p : resolve(base, p);
      return { type, name: name ?? `jsonl:${p}`, path: abs };
    }
  }
}

/**
 * A sink from `--sink URL`:
 *   nats://HOST:PORT?subject=S&stream=NAME   redis://HOST:PORT[/DB]?stream=KEY
 *   https://HOST/PATH (HMAC secret from $LEAKHOUND_WEBHOOK_SECRET)   jsonl:PATH | jsonl:-
 */
export function parseSinkFlag(value: string, cwd: string): SinkSpec {
  const bad = (msg: string): never => {
    throw new UserError(`--sink ${redactUrl(value)}: ${msg}`);
  };
  if (value.startsWith('jsonl:')) {
    const p = value.slice('jsonl:'.length);
    if (p === '') bad('name a file after jsonl: (or jsonl:- for stdout)');
    return { type: 'jsonl', name: `jsonl:${p}`, path: p === '-' ? '-' : resolve(cwd, p) };
  }
  if (value === '-') return { type: 'jsonl', name: 'jsonl:-', path: '-' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad('not a URL (expected nats://, redis://, http(s):// or jsonl:PATH)');
  }
  const q = url.searchParams;
  switch (url.protocol) {
    case 'nats:':
    case 'tls:': {
      const subject = q.get('subject') ?? 'leakhound.triggers';
      checkSubject(subject, bad);
      const stream = q.get('stream') ?? undefined;
      if (stream !== undefined && !/^[A-Za-z0-9_-]+$/.test(stream)) bad(`'${stream}' is not a valid JetStream stream name`);
      for (const k of q.keys()) if (k !== 'subject' && k !== 'stream') bad(`unknown parameter '${k}' (expected subject, stream)`);
      const server = `${url.protocol}//${url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : ''}${url.host}`;
      return { type: 'nats', name: `nats:${subject}`, url: server, subject, ...(stream !== undefined ? { stream } : {}), timeoutMs: 5000 };
    }
    case 'redis:':
    case 'rediss:': {
      const stream = q.get('stream') ?? 'leakhound:triggers';
      for (const k of q.keys()) if (k !== 'stream') bad(`unknown parameter '${k}' (expected stream)`);
      const u = new URL(value);
      u.search = '';
      return { type: 'redis', name: `redis:${stream}`, url: u.toString(), stream, dedupeTtl: 7 * 86400, timeoutMs: 5000 };
    }
    case 'http:':
    case 'https:':
      return { type: 'webhook', name: webhookName(value), url: value, secretEnv: DEFAULT_WEBHOOK_SECRET_ENV, timeoutMs: 10_000, retries: 5, backoffMs: 500, concurrency: 8 };
    default:
      return bad(`unsupported scheme '${url.protocol}' (expected nats://, redis://, http(s):// or jsonl:PATH)`);
  }
}

export function checkUniqueNames(sinks: SinkSpec[], fail: (index: number, message: string) => never): void {
  const seen = new Set<string>();
  sinks.forEach((s, i) => {
    if (seen.has(s.name)) fail(i, `two sinks are named '${s.name}': give one a distinct 'name'`);
    seen.add(s.name);
  });
}

/** A sink name never carries credentials or query strings: it is written to the store and audit log. */
function webhookName(url: string): string {
  const u = new URL(url);
  return `webhook:${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/** The URL without user info or query (they may hold credentials), for messages. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    u.search = '';
    return u.toString();
  } catch {
    return value.length > 80 ? value.slice(0, 80) + '…' : value;
  }
}

function checkUrl(value: string, protocols: string[], fail: (m: string) => never): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return fail(`'${redactUrl(value)}' is not a valid URL`);
  }
  if (!protocols.includes(u.protocol)) return fail(`'${redactUrl(value)}': expected a ${protocols.map((p) => p + '//').join(' or ')} URL`);
  return value;
}

function checkSubject(subject: string, fail: (m: string) => never): void {
  if (!/^[^\s.*>]+(\.[^\s.*>]+)*$/.test(subject)) fail(`'${subject}' is not a valid NATS subject to publish to (dot-separated tokens, no wildcards or spaces)`);
}

function str(v: unknown, path: Path, fail: Fail): string {
  if (typeof v !== 'string' || v === '') return fail(path, `'${path.filter((p) => typeof p === 'string').join('.')}' must be a non-empty string`);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: Path, fail: Fail): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    return fail(path, `'${path.filter((p) => typeof p === 'string').join('.')}' must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}
