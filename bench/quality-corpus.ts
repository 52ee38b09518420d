import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import type { RuleDefinition } from '../src/core/types.js';
import { compileRules, type CompiledRuleSet } from '../src/engine/compile.js';
import { scanBuffer } from '../src/engine/scan.js';
import { Rng, base62 } from './random.js';

/**
 * The labelled corpus of `npm run bench:quality`: positives of every rule in realistic files of many
 * types, plus hard negatives (placeholders, documented example keys, lockfile and content hashes,
 * UUIDs, public keys and certificates, base64 images and fonts, minified code). Everything is
 * generated from a seed: secret values are fresh random strings in each rule's own format (its
 * pattern, checked rule by rule), never copied from anywhere.
 */

export interface Planted {
  path: string;
  /** 1-based inclusive line range the item occupies. */
  line: number;
  endLine: number;
  kind: 'positive' | 'negative';
  /** Positives: the rule pack (file name) whose rules should report it. Negatives: the category. */
  group: string;
  /** Positives: the rule the value was generated for; negatives: a short description. */
  label: string;
  /** How the positive was placed: verbatim example, a syntax rendering, base64 in a Secret. */
  context: string;
}

export interface CorpusOptions {
  seed: number;
  /** Examples used per rule (each becomes one verbatim positive plus its renderings). */
  examplesPerRule: number;
  /** Key/value syntaxes rendered per example (all when undefined). */
  syntaxesPerExample?: number;
  /** Generic-secret positives per key name. */
  genericPerKey: number;
  /** Copies of each hard-negative file. */
  negativeCopies: number;
}

export interface Corpus {
  dir: string;
  files: number;
  bytes: number;
  planted: Planted[];
  /** Renderings a context-dependent rule does not accept (its pattern needs another syntax). */
  skippedRenderings: number;
  /** Rules whose example secrets could not be varied (checksummed or fixed formats). */
  staticRules: string[];
}

export const FULL: CorpusOptions = { seed: 20240501, examplesPerRule: 2, genericPerKey: 3, negativeCopies: 3 };
export const SMALL: CorpusOptions = { seed: 7, examplesPerRule: 1, syntaxesPerExample: 3, genericPerKey: 1, negativeCopies: 1 };

export { Rng };

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const B62 = DIGITS + UPPER + LOWER;
const HEX = '0123456789abcdef';

// ---------------------------------------------------------------------------------------------
// Secret values: each rule's example secret, varied character by character within its class and
// kept only while the rule (alone) still reports exactly the new value. Checksums are recomputed.

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i);
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}


/** GitHub tokens: the last 6 base62 characters are the CRC32 of the payload after the prefix. */
function fixGithubChecksum(secret: string): string {
  const m = /^([a-z][a-z0-9]*_)([A-Za-z0-9]{7,})$/.exec(secret);
  if (!m) return secret;
  const payload = m[2]!.slice(0, -6);
  return `${m[1]}${payload}${base62(crc32(payload), 6)}`;
}

interface Found {
  secret: string;
  start: number;
  end: number;
}

/** The hit of `rule` in `text` (the first one), with its byte span. */
function findSecret(single: CompiledRuleSet, ruleId: string, text: string): Found | undefined {
  const buf = Buffer.from(text);
  const hit = scanBuffer(single, buf).find((h) => h.ruleId === ruleId && h.decodedFrom === undefined);
  if (!hit) return undefined;
  const start = buf.subarray(0, hit.offset).toString().length;
  return { secret: hit.secret, start, end: start + hit.secret.length };
}

function classAlphabet(ch: string, secret: string): string | undefined {
  const hexOnly = /^[0-9a-fA-F\s-]+$/.test(secret);
  if (DIGITS.includes(ch)) return DIGITS;
  if (LOWER.includes(ch)) return hexOnly ? 'abcdef' : LOWER;
  if (UPPER.includes(ch)) return hexOnly ? 'ABCDEF' : UPPER;
  return undefined;
}

export interface Varied {
  text: string;
  secret: string;
  start: number;
  /** Share of the secret's characters that changed. */
  changed: number;
}

/**
 * A new value for the example's secret: blocks of characters are re-drawn from their class and
 * kept while the rule alone still finds exactly the new value at the same place (so fixed
 * prefixes, structure and validators hold); checksummed formats get their checksum recomputed.
 */
export function varyExample(rule: RuleDefinition, single: CompiledRuleSet, example: string, rng: Rng): Varied | undefined {
  const found = findSecret(single, rule.id, example);
  if (!found) return undefined;
  const fix = rule.validate === 'github-crc32' ? fixGithubChecksum : (s: string) => s;
  const before = example.slice(0, found.start);
  const after = example.slice(found.end);
  const ok = (v: string): boolean => {
    const f = findSecret(single, rule.id, before + v + after);
    return f !== undefined && f.secret === v && f.start === found.start;
  };
  let cur = found.secret;
  const positions = rng.shuffle([...cur].map((_, i) => i));
  const tryChange = (idx: number[]): boolean => {
    const chars = [...cur];
    let any = false;
    for (const i of idx) {
      const alpha = classAlphabet(chars[i]!, found.secret);
      if (!alpha) continue;
      chars[i] = rng.pick([...alpha]);
      any = true;
    }
    if (!any) return false;
    const next = fix(chars.join(''));
    if (next.length !== cur.length || !ok(next)) return false;
    cur = next;
    return true;
  };
  // big blocks first (long PEM bodies), then single characters where a block failed
  const block = cur.length > 200 ? 24 : 1;
  for (let k = 0; k < positions.length; k += block) {
    const idx = positions.slice(k, k + block);
    if (!tryChange(idx) && block > 1) for (const i of idx) tryChange([i]);
  }
  let changed = 0;
  for (let i = 0; i < cur.length; i++) if (cur[i] !== found.secret[i]) changed++;
  return { text: before + cur + after, secret: cur, start: found.start, changed: changed / cur.length };
}

// ---------------------------------------------------------------------------------------------
// Files: filler lines of each type (realistic, secret-free) around the planted lines.

type FileType = 'env' | 'yaml' | 'json' | 'js' | 'py' | 'go' | 'properties' | 'tf' | 'docker' | 'sh' | 'log' | 'xml' | 'text' | 'ini';

const FILLER: Record<FileType, string[]> = {
  env: ['NODE_ENV=production', 'PORT=8080', 'LOG_LEVEL=info', 'REDIS_HOST=cache.internal', 'FEATURE_FLAGS=search,billing', 'TZ=UTC', 'WORKERS=4', 'PUBLIC_URL=https://shop.internal'],
  yaml: ['  replicas: 3', '  image: registry.internal/orders:1.14.2', '  region: eu-west-1', '  timeout: 30s', '  retries: 5', '  log_level: info', '  enabled: true', '  labels:', '    team: payments'],
  json: ['  "name": "orders-service",', '  "version": "2.3.1",', '  "region": "eu-west-1",', '  "timeoutMs": 3000,', '  "retries": 3,', '  "features": ["search", "billing"],', '  "debug": false,'],
  js: ["import express from 'express';", 'const app = express();', "app.use(express.json());", 'const port = Number(process.env.PORT ?? 3000);', "app.get('/health', (_req, res) => res.send('ok'));", 'export function total(items) {', '  return items.reduce((a, b) => a + b.price, 0);', '}'],
  py: ['import os', 'import logging', 'logger = logging.getLogger(__name__)', 'def handler(event, context):', '    return {"statusCode": 200}', 'TIMEOUT = 30', 'RETRIES = 3'],
  go: ['package main', 'import "net/http"', 'func health(w http.ResponseWriter, r *http.Request) {', '\tw.WriteHeader(http.StatusOK)', '}', 'var timeout = 30'],
  properties: ['server.port=8080', 'spring.application.name=orders', 'logging.level.root=INFO', 'spring.jpa.open-in-view=false', 'management.endpoints.web.exposure.include=health'],
  tf: ['provider "aws" {', '  region = "eu-west-1"', '}', 'resource "aws_s3_bucket" "logs" {', '  bucket = "orders-logs"', '}', 'locals {', '  env = "prod"', '}'],
  docker: ['FROM node:20-alpine', 'WORKDIR /app', 'COPY package*.json ./', 'RUN npm ci --omit=dev', 'COPY . .', 'EXPOSE 8080', 'CMD ["node", "server.js"]'],
  sh: ['#!/usr/bin/env bash', 'set -euo pipefail', 'cd "$(dirname "$0")/.."', 'echo "deploying $SERVICE"', 'kubectl rollout status deploy/orders', 'npm run build'],
  log: ['2024-05-01T12:00:01Z INFO server listening on :8080', '2024-05-01T12:00:02Z DEBUG cache warmed in 132ms', '2024-05-01T12:00:05Z WARN slow query took 812ms', '2024-05-01T12:00:09Z INFO GET /health 200 1ms'],
  xml: ['<?xml version="1.0" encoding="UTF-8"?>', '<configuration>', '  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender"/>', '  <root level="INFO"/>', '</configuration>'],
  text: ['Deployment notes for the orders service.', 'Run the migrations before switching traffic.', 'Contact the on-call engineer for access.'],
  ini: ['[default]', 'region = eu-west-1', 'output = json', '[profile build]', 'role_arn = arn:aws:iam::123456789012:role/build'],
};


export class CorpusWriter {
  files = 0;
  bytes = 0;
  readonly planted: Planted[] = [];
  private seq = 0;
  constructor(
    readonly dir: string,
    private readonly rng: Rng,
  ) {}

  /**
   * Writes one file: filler, the planted block, filler. `items` are positions relative to the block
   * (0-based first and last line) with their labels.
   */
  write(sub: string, name: string, type: FileType, block: string[], items: Omit<Planted, 'path' | 'line' | 'endLine'> & { from?: number; to?: number }): void {
    const head = this.filler(type, 1 + this.rng.int(4));
    const tail = this.filler(type, 1 + this.rng.int(4));
    const path = `${sub}/${String(this.seq++).padStart(5, '0')}/${name}`;
    const lines = [...head, ...block, ...tail];
    const text = lines.join('\n') + '\n';
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    writeFileSync(join(this.dir, path), text);
    this.files++;
    this.bytes += Buffer.byteLength(text);
    const { from, to, ...rest } = items;
    this.planted.push({ ...rest, path, line: head.length + 1 + (from ?? 0), endLine: head.length + 1 + (to ?? block.length - 1) });
  }

  private filler(type: FileType, n: number): string[] {
    const pool = FILLER[type];
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(pool[this.rng.int(pool.length)]!);
    if (type === 'json') return []; // JSON blocks carry their own braces
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Key/value renderings of one (key, value) pair in the syntaxes secrets are written in.

interface Rendering {
  syntax: string;
  type: FileType;
  name: string;
  lines: string[];
  /** Line index (in lines) of the value. */
  at: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function renderings(key: string, value: string): Rendering[] {
  const id = IDENT.test(key);
  const out: Rendering[] = [
    { syntax: 'env', type: 'env', name: '.env', lines: [`${key}=${value}`], at: 0 },
    { syntax: 'yaml', type: 'yaml', name: 'values.yaml', lines: ['app:', `  ${key}: ${value}`], at: 1 },
    { syntax: 'json', type: 'json', name: 'appsettings.json', lines: ['{', '  "service": "orders",', `  "${key}": "${value}",`, '  "retries": 3', '}'], at: 2 },
    { syntax: 'js', type: 'js', name: 'config.js', lines: ['export const config = {', `  ${id ? key : `'${key}'`}: '${value}',`, '};'], at: 1 },
    { syntax: 'python', type: 'py', name: 'settings.py', lines: id ? [`${key} = "${value}"`] : [`SETTINGS["${key}"] = "${value}"`], at: 0 },
    { syntax: 'go', type: 'go', name: 'config.go', lines: id ? [`const ${key} = "${value}"`] : [`var cfg = map[string]string{"${key}": "${value}"}`], at: 0 },
    { syntax: 'properties', type: 'properties', name: 'application.properties', lines: [`${key}=${value}`], at: 0 },
    { syntax: 'terraform', type: 'tf', name: 'main.tf', lines: ['module "app" {', '  source = "./modules/app"', `  ${key} = "${value}"`, '}'], at: 2 },
    { syntax: 'dockerfile', type: 'docker', name: 'Dockerfile', lines: [`ENV ${key}=${value}`], at: 0 },
    { syntax: 'shell', type: 'sh', name: 'deploy.sh', lines: [`export ${key}="${value}"`], at: 0 },
    { syntax: 'log', type: 'log', name: 'worker.log', lines: [`2024-05-01T12:00:04Z DEBUG loaded settings ${key}=${value} pid=4121`], at: 0 },
  ];
  return out;
}

function kubernetesSecret(key: string, value: string): Rendering {
  const k = key.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  return {
    syntax: 'k8s-secret-base64',
    type: 'yaml',
    name: 'secret.yaml',
    lines: ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: app-credentials', 'type: Opaque', 'data:', `  ${k}: ${Buffer.from(value).toString('base64')}`],
    at: 6,
  };
}

/** The key an example assigns its secret to (`FOO_TOKEN=`, `"apiKey": "`), if it has one. */
function keyBefore(prefix: string): string | undefined {
  const line = prefix.slice(prefix.lastIndexOf('\n') + 1);
  const m = /([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?::=|=>|=|:)\s*["']?$/.exec(line);
  return m?.[1];
}

function keyFor(rule: RuleDefinition): string {
  const p = rule.provider.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
  const kind = /password/.test(rule.id) ? 'PASSWORD' : /secret/.test(rule.id) ? 'SECRET' : /key/.test(rule.id) ? 'API_KEY' : 'TOKEN';
  return `${p}_${kind}`;
}

/** File type and name for an example planted as written (its own syntax). */
function verbatimFile(rule: RuleDefinition, text: string): [FileType, string] {
  const id = rule.id;
  const byId: [RegExp, FileType, string][] = [
    [/npmrc/, 'ini', '.npmrc'], [/pypirc/, 'ini', '.pypirc'], [/netrc/, 'text', '.netrc'], [/kubeconfig/, 'yaml', 'kubeconfig'],
    [/dockerconfig/, 'yaml', 'pull-secret.yaml'], [/htpasswd/, 'text', '.htpasswd'], [/gradle/, 'properties', 'gradle.properties'],
    [/maven/, 'xml', 'settings.xml'], [/putty/, 'text', 'deploy.ppk'], [/private-key|pgp/, 'text', 'key.pem'],
  ];
  for (const [re, type, name] of byId) if (re.test(id)) return [type, name];
  const t = text.trimStart();
  if (/^[{[]/.test(t) || /^"[^"]+"\s*:/.test(t)) return ['json', 'data.json'];
  if (/^</.test(t)) return ['xml', 'config.xml'];
  if (/^export\s/m.test(t)) return ['sh', 'env.sh'];
  if (/^(ENV|ARG|RUN)\s/m.test(t)) return ['docker', 'Dockerfile'];
  if (/^\[[^\]]+\]\s*$/m.test(t)) return ['ini', 'credentials'];
  if (/^\s*(const|let|var|import|export)\s/m.test(t)) return ['js', 'index.js'];
  if (/^\s*(import|from|def)\s/m.test(t)) return ['py', 'app.py'];
  if (/^\s*[A-Za-z_][\w.-]*:\s/m.test(t)) return ['yaml', 'config.yaml'];
  if (/^[A-Z_][A-Z0-9_]*=/m.test(t)) return ['env', '.env'];
  if (/^[a-z][\w.-]*\s*=/m.test(t)) return ['properties', 'app.properties'];
  return ['text', 'notes.txt'];
}

// ---------------------------------------------------------------------------------------------
// Positives of the provider rules.

function family(rule: RuleDefinition): string {
  return basename(rule.file ?? 'config');
}

export function plantRulePositives(w: CorpusWriter, rules: RuleDefinition[], opts: CorpusOptions, rng: Rng): { skipped: number; staticRules: string[] } {
  let skipped = 0;
  const staticRules: string[] = [];
  const byId = new Map(rules.map((r) => [r.id, r]));
  const singles = new Map<string, CompiledRuleSet>();
  const single = (r: RuleDefinition): CompiledRuleSet => {
    let c = singles.get(r.id);
    if (!c) singles.set(r.id, (c = compileRules([r])));
    return c;
  };
  for (const rule of rules) {
    if (rule.composite) continue;
    if (family(rule) === 'generic.yaml') continue; // generic positives have their own generator
    let minChanged = 1;
    for (const example of rule.examples.slice(0, opts.examplesPerRule)) {
      const v = varyExample(rule, single(rule), example, rng);
      if (!v) continue;
      minChanged = Math.min(minChanged, v.changed);
      const base = { kind: 'positive' as const, group: family(rule), label: rule.id };
      const [type, name] = verbatimFile(rule, v.text);
      const block = v.text.replace(/\n$/, '').split('\n');
      // the whole example is the planted item: a credential file (service-account JSON, kubeconfig)
      // may hold other secrets besides the one the rule is about
      w.write(`positives/${family(rule)}/${rule.id}`, name, type, block, { ...base, context: 'verbatim' });
      if (v.secret.includes('\n')) continue;
      // renderings in other syntaxes: with the example's key, or a provider key for rules that need none
      const quoted = findSecret(single(rule), rule.id, `"${v.secret}"`);
      const contextFree = quoted?.secret === v.secret;
      const key = keyBefore(v.text.slice(0, v.start)) ?? (contextFree ? keyFor(rule) : undefined);
      if (key === undefined) continue;
      let rs = renderings(key, v.secret);
      if (contextFree && Buffer.byteLength(v.secret) >= 12) rs.push(kubernetesSecret(key, v.secret));
      if (opts.syntaxesPerExample !== undefined) rs = rng.shuffle(rs).slice(0, opts.syntaxesPerExample);
      for (const r of rs) {
        if (!contextFree && r.syntax !== 'k8s-secret-base64') {
          // a rule tied to one syntax (a key it needs, quotes) is measured where it claims to work
          const f = findSecret(single(rule), rule.id, r.lines.join('\n'));
          if (f?.secret !== v.secret) {
            skipped++;
            continue;
          }
        }
        w.write(`positives/${family(rule)}/${rule.id}`, r.name, r.type, r.lines, { ...base, context: r.syntax, from: r.at, to: r.at });
      }
    }
    if (minChanged < 0.25) staticRules.push(rule.id);
  }
  // composites: their examples hold every part; each part's secret is varied by its own rule
  for (const rule of rules) {
    if (!rule.composite) continue;
    for (const example of rule.examples.slice(0, opts.examplesPerRule)) {
      let text = example;
      for (const partId of rule.composite.parts) {
        const part = byId.get(partId);
        if (!part) continue;
        const v = varyExample(part, single(part), text, rng);
        if (v) text = v.text;
      }
      const [type, name] = verbatimFile(rule, text);
      const block = text.replace(/\n$/, '').split('\n');
      w.write(`positives/${family(rule)}/${rule.id}`, name, type, block, { kind: 'positive', group: family(rule), label: rule.id, context: 'verbatim' });
    }
  }
  return { skipped, staticRules };
}

// ---------------------------------------------------------------------------------------------
// Generic secrets: secret-named keys with random values, in every syntax the generic rules cover.

const GENERIC_KEYS = ['DB_PASSWORD', 'SMTP_PASSWORD', 'admin_password', 'api_key', 'apiKey', 'API_TOKEN', 'auth_token', 'authToken', 'client_secret', 'clientSecret', 'SESSION_SECRET', 'private_key', 'access_key', 'credentials', 'db_passwd', 'REPORTING_PWD'];

function genericValue(rng: Rng): string {
  switch (rng.int(6)) {
    case 0: return rng.str(32, HEX);
    case 1: return rng.str(40, HEX);
    case 2: return rng.str(20 + rng.int(12), B62);
    case 3: return rng.bytes(24 + rng.int(12)).toString('base64').replace(/=+$/, '');
    case 4: return rng.bytes(30).toString('base64url');
    default: return rng.str(16 + rng.int(8), B62 + '!#%^*-_+');
  }
}

function camel(key: string): string {
  return key.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Generic secrets in code of several languages, configuration formats, XML and command lines. */
function genericRenderings(key: string, value: string): Rendering[] {
  const c = camel(key);
  const pascal = c[0]!.toUpperCase() + c.slice(1);
  const flag = key.toLowerCase().replace(/_/g, '-');
  return [
    ...renderings(key, value),
    { syntax: 'typescript', type: 'js', name: 'client.ts', lines: [`const ${c}: string = "${value}";`], at: 0 },
    { syntax: 'java', type: 'js', name: 'Config.java', lines: ['public class Config {', `    private static final String ${key.toUpperCase()} = "${value}";`, '}'], at: 1 },
    { syntax: 'csharp', type: 'js', name: 'Settings.cs', lines: ['public static class Settings', '{', `    public const string ${pascal} = @"${value}";`, '}'], at: 2 },
    { syntax: 'ruby', type: 'py', name: 'config.rb', lines: ['Rails.application.configure do', `  config.x.${key.toLowerCase()} = '${value}'`, 'end'], at: 1 },
    { syntax: 'ruby-hash', type: 'py', name: 'client.rb', lines: [`client = Api::Client.new(:${key.toLowerCase()} => "${value}")`], at: 0 },
    { syntax: 'php', type: 'js', name: 'config.php', lines: ['<?php', 'return [', `    '${key.toLowerCase()}' => '${value}',`, '];'], at: 2 },
    { syntax: 'hcl-tfvars', type: 'tf', name: 'prod.tfvars', lines: [`${key.toLowerCase()} = "${value}"`], at: 0 },
    { syntax: 'xml-element', type: 'xml', name: 'app.config.xml', lines: ['<settings>', `  <${c}>${value}</${c}>`, '</settings>'], at: 1 },
    { syntax: 'xml-appsettings', type: 'xml', name: 'web.config', lines: ['<appSettings>', `  <add key="${pascal}" value="${value}" />`, '</appSettings>'], at: 1 },
    { syntax: 'cli-flag', type: 'sh', name: 'bootstrap.sh', lines: [`./bin/agent register --${flag} ${value} --name build-01`], at: 0 },
    { syntax: 'cli-flag-eq', type: 'sh', name: 'ci.sh', lines: [`migrate --${flag}="${value}" up`], at: 0 },
  ];
}

function plantGenericPositives(w: CorpusWriter, opts: CorpusOptions, rng: Rng): void {
  const base = { kind: 'positive' as const, group: 'generic.yaml', label: 'generic' };
  for (const key of GENERIC_KEYS) {
    for (let i = 0; i < opts.genericPerKey; i++) {
      let rs = genericRenderings(key, genericValue(rng));
      if (opts.syntaxesPerExample !== undefined) rs = rng.shuffle(rs).slice(0, opts.syntaxesPerExample + 2);
      for (const r of rs) w.write(`positives/generic.yaml/${key}`, r.name, r.type, r.lines, { ...base, context: r.syntax, from: r.at, to: r.at });
    }
  }
  const cli: [string, (v: string) => string][] = [
    ['mysql-p', (v) => `mysqldump -h db.internal -u backup -p${v} orders > orders.sql`],
    ['sshpass', (v) => `sshpass -p '${v}' scp build.tar.gz deploy@10.0.4.12:/srv/app/`],
    ['docker-login', (v) => `docker login -u ci-bot -p ${v} registry.internal`],
  ];
  for (const [syntax, line] of cli) {
    for (let i = 0; i < opts.genericPerKey; i++) {
      w.write('positives/generic.yaml/cli', 'release.sh', 'sh', [line(rng.str(20, B62))], { ...base, context: syntax });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hard negatives: look like secrets to a careless scanner, are not secrets.

function uuid(rng: Rng): string {
  const h = rng.str(32, HEX);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function b64(rng: Rng, bytes: number): string {
  return rng.bytes(bytes).toString('base64');
}

function pemLines(body: string): string[] {
  return body.match(/.{1,64}/g) ?? [];
}

/**
 * An OpenSSH public key line with the real wire layout (string "ssh-rsa", mpint e, mpint n). The
 * modulus is random odd bytes, not a generated key: exporting a generated key as JWK can deadlock
 * Node 20 when a collection runs inside the export (seen here: a hung test), and a public key's
 * shape is all this negative needs.
 */
function sshRsaPublic(rng: Rng): string {
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 0xff, b.length & 0xff]), b]);
  const mpint = (b: Buffer): Buffer => str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  const n = rng.bytes(256);
  n[0] = n[0]! | 0x80; // a full 2048-bit modulus
  n[255] = n[255]! | 1; // odd, as a product of two odd primes is
  const blob = Buffer.concat([str(Buffer.from('ssh-rsa')), mpint(Buffer.from([1, 0, 1])), mpint(n)]);
  return `ssh-rsa ${blob.toString('base64')} deploy@build-${rng.int(100)}`;
}

type NegativeFile = { category: string; label: string; type: FileType; name: string; lines: string[] };

function negatives(rng: Rng): NegativeFile[] {
  const out: NegativeFile[] = [];
  const add = (category: string, label: string, type: FileType, name: string, lines: string[]): void => {
    out.push({ category, label, type, name, lines });
  };
  // placeholders and templates, in the places real secrets go
  add('placeholder', 'env template', 'env', '.env.example', [
    'STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx',
    'GITHUB_TOKEN=<your-github-token>',
    'OPENAI_API_KEY=${OPENAI_API_KEY}',
    'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app',
    'SLACK_BOT_TOKEN=xoxb-your-token-here',
    'AWS_SECRET_ACCESS_KEY=changeme',
    'SENDGRID_API_KEY=SG.XXXXXXXXXXXXXXXXXXXXXX.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    'API_TOKEN=dummy-token-for-local-dev',
    'JWT_SECRET=replace-me-with-a-long-random-string',
    'GITHUB_PAT=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'OPENAI_API_KEY=sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    'AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX',
    'SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    'MONGO_URI=mongodb+srv://<username>:<password>@cluster0.mongodb.net/app',
    'REDIS_URL=redis://:${REDIS_PASSWORD}@cache:6379/0',
  ]);
  add('placeholder', 'CI and infrastructure references', 'yaml', '.github/workflows/deploy.yml', [
    'env:',
    '  DB_PASSWORD: ${{ secrets.DB_PASSWORD }}',
    '  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}',
    '  api_key: !vault |',
    '  client_secret: "%CLIENT_SECRET%"',
  ]);
  add('placeholder', 'terraform references', 'tf', 'db.tf', [
    'resource "aws_db_instance" "main" {',
    '  password = random_password.db.result',
    '  api_key  = var.datadog_api_key',
    '  client_secret = data.azurerm_key_vault_secret.sp.value',
    '}',
  ]);
  add('placeholder', 'docs private key', 'text', 'docs/tls.md', ['-----BEGIN RSA PRIVATE KEY-----', '...', '-----END RSA PRIVATE KEY-----', 'curl https://user:pass@example.com/api']);
  add('placeholder', 'helm template', 'yaml', 'templates/secret.yaml', [
    'stringData:',
    '  password: {{ .Values.postgresql.auth.password | quote }}',
    '  apiKey: "{{ .Values.apiKey }}"',
    '  token: {{ required "token is required" .Values.token }}',
    '  client_secret: ${CLIENT_SECRET}',
  ]);
  add('placeholder', 'code reading the environment', 'js', 'config.js', [
    'export const settings = {',
    '  apiKey: process.env.API_KEY,',
    '  clientSecret: process.env.OAUTH_CLIENT_SECRET ?? "",',
    '  password: config.get("db.password"),',
    '  token: await secrets.get("deploy-token"),',
    '};',
  ]);
  add('placeholder', 'python settings', 'py', 'settings.py', [
    'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]',
    'API_KEY = os.getenv("API_KEY", "example-api-key")',
    'DB_PASSWORD = "changeme"',
    'AUTH_TOKEN = "<insert token here>"',
    'password = "********"',
  ]);
  add('placeholder', 'docs snippet', 'text', 'README.md', [
    'export ANTHROPIC_API_KEY=sk-ant-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'curl -H "Authorization: Bearer $TOKEN" https://api.internal/v1/me',
    'mysql -u root -p your_password_here',
    'docker login -u USER -p "$REGISTRY_TOKEN" registry.internal',
  ]);
  // documented example keys
  add('documented-example', 'AWS documentation keys', 'ini', 'credentials', [
    '[default]',
    'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    '[docs]',
    'aws_access_key_id = AKIAI44QH8DHBEXAMPLE',
    'aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  ]);
  // lockfile integrity hashes
  const pkgs = ['left-pad', 'lodash', 'express', 'react-dom', 'zod', 'chalk'];
  add('lockfile-hash', 'package-lock.json', 'json', 'package-lock.json', [
    '{', '  "lockfileVersion": 3,', '  "packages": {',
    ...pkgs.map((p) => `    "node_modules/${p}": { "version": "1.${rng.int(20)}.${rng.int(9)}", "resolved": "https://registry.npmjs.org/${p}/-/${p}-1.2.3.tgz", "integrity": "sha512-${b64(rng, 64)}" },`),
    '    "node_modules/tokenizer": { "version": "0.1.0", "integrity": "sha1-' + b64(rng, 20) + '" }', '  }', '}',
  ]);
  add('lockfile-hash', 'yarn.lock', 'text', 'yarn.lock', pkgs.flatMap((p) => [`${p}@^1.0.0:`, `  version "1.${rng.int(9)}.0"`, `  resolved "https://registry.yarnpkg.com/${p}/-/${p}-1.0.0.tgz#${rng.str(40, HEX)}"`, `  integrity sha512-${b64(rng, 64)}`, '']));
  add('lockfile-hash', 'pnpm-lock.yaml', 'yaml', 'pnpm-lock.yaml', ['packages:', ...pkgs.flatMap((p) => [`  /${p}@1.0.0:`, `    resolution: {integrity: sha512-${b64(rng, 64)}}`])]);
  add('lockfile-hash', 'Cargo.lock', 'text', 'Cargo.lock', ['serde', 'tokio', 'rand'].flatMap((p) => ['[[package]]', `name = "${p}"`, 'version = "1.0.0"', 'source = "registry+https://github.com/rust-lang/crates.io-index"', `checksum = "${rng.str(64, HEX)}"`, '']));
  add('lockfile-hash', 'go.sum', 'text', 'go.sum', ['github.com/google/uuid', 'golang.org/x/crypto', 'github.com/stretchr/testify'].flatMap((m) => [`${m} v1.3.0 h1:${b64(rng, 32)}`, `${m} v1.3.0/go.mod h1:${b64(rng, 32)}`]));
  add('lockfile-hash', 'poetry.lock', 'text', 'poetry.lock', ['[[package]]', 'name = "requests"', 'files = [', `    {file = "requests-2.31.0-py3-none-any.whl", hash = "sha256:${rng.str(64, HEX)}"},`, `    {file = "requests-2.31.0.tar.gz", hash = "sha256:${rng.str(64, HEX)}"},`, ']']);
  add('lockfile-hash', 'composer.lock', 'json', 'composer.lock', ['{', '  "packages": [', `    { "name": "monolog/monolog", "source": { "type": "git", "reference": "${rng.str(40, HEX)}" }, "dist": { "shasum": "${rng.str(40, HEX)}" } }`, '  ]', '}']);
  add('lockfile-hash', '.terraform.lock.hcl', 'tf', '.terraform.lock.hcl', ['provider "registry.terraform.io/hashicorp/aws" {', '  version = "5.31.0"', '  hashes = [', `    "h1:${b64(rng, 32)}",`, `    "zh:${rng.str(64, HEX)}",`, '  ]', '}']);
  add('lockfile-hash', 'flake.lock', 'json', 'flake.lock', ['{', '  "nodes": { "nixpkgs": { "locked": {', `    "narHash": "sha256-${b64(rng, 32)}",`, `    "rev": "${rng.str(40, HEX)}"`, '  } } }', '}']);
  // git and content hashes
  add('content-hash', 'git log', 'log', 'git-log.txt', [`commit ${rng.str(40, HEX)}`, 'Author: Dev <dev@example.org>', `Merge: ${rng.str(7, HEX)} ${rng.str(7, HEX)}`, '    fix token refresh', `commit ${rng.str(40, HEX)}`]);
  add('content-hash', 'pinned actions and images', 'yaml', '.github/workflows/ci.yml', ['jobs:', '  build:', '    steps:', `      - uses: actions/checkout@${rng.str(40, HEX)} # v4`, `      - uses: actions/setup-node@${rng.str(40, HEX)}`, `    container: node@sha256:${rng.str(64, HEX)}`]);
  add('content-hash', 'Dockerfile digest', 'docker', 'Dockerfile', [`FROM python:3.12-slim@sha256:${rng.str(64, HEX)}`, `ARG BUILD_SHA=${rng.str(40, HEX)}`]);
  add('content-hash', 'SHA256SUMS', 'text', 'SHA256SUMS', [`${rng.str(64, HEX)}  app-linux-amd64.tar.gz`, `${rng.str(64, HEX)}  app-darwin-arm64.tar.gz`]);
  add('content-hash', 'API response', 'json', 'commit.json', ['{', `  "sha": "${rng.str(40, HEX)}",`, `  "tree": { "sha": "${rng.str(40, HEX)}" },`, `  "etag": "W/\\"${rng.str(32, HEX)}\\"",`, `  "md5": "${rng.str(32, HEX)}",`, `  "checksum": "${b64(rng, 32)}"`, '}']);
  add('content-hash', 'subresource integrity', 'xml', 'index.html', [`<script src="https://cdn.example.org/app.min.js" integrity="sha384-${b64(rng, 48)}" crossorigin="anonymous"></script>`]);
  // UUIDs
  add('uuid', 'ids in JSON and logs', 'json', 'events.json', ['{', `  "id": "${uuid(rng)}",`, `  "requestId": "${uuid(rng)}",`, `  "tenant_id": "${uuid(rng)}",`, `  "subscriptionId": "${uuid(rng)}",`, `  "correlation-id": "${uuid(rng)}"`, '}']);
  add('uuid', 'log lines', 'log', 'access.log', [`2024-05-01T12:01:00Z INFO request_id=${uuid(rng)} trace_id=${rng.str(32, HEX)} span_id=${rng.str(16, HEX)}`, `2024-05-01T12:01:01Z INFO session=${uuid(rng)} user=${uuid(rng)}`]);
  add('uuid', 'OAuth client ids', 'yaml', 'oauth.yaml', ['oauth:', `  client_id: ${uuid(rng)}`, `  tenantId: "${uuid(rng)}"`, `  app_id: ${uuid(rng)}`]);
  add('uuid', 'project guids', 'xml', 'App.csproj', [`<ProjectGuid>{${uuid(rng).toUpperCase()}}</ProjectGuid>`, `<UserSecretsId>${uuid(rng)}</UserSecretsId>`]);
  // public keys and certificates
  // a P-256 SubjectPublicKeyInfo: the fixed DER header, then an uncompressed point (no key generation: see sshRsaPublic)
  const spki = Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), Buffer.from([4]), rng.bytes(64)]);
  const pubPem = ['-----BEGIN PUBLIC KEY-----', ...pemLines(spki.toString('base64')), '-----END PUBLIC KEY-----'];
  add('public-key', 'PEM public key', 'text', 'signing.pub', pubPem);
  add('public-key', 'certificate', 'text', 'ca.crt', ['-----BEGIN CERTIFICATE-----', ...pemLines(b64(rng, 900)), '-----END CERTIFICATE-----']);
  add('public-key', 'authorized_keys', 'text', 'authorized_keys', [sshRsaPublic(rng), `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), rng.bytes(32)]).toString('base64')} ops@bastion`]);
  add('public-key', 'PGP public key', 'text', 'release.asc', ['-----BEGIN PGP PUBLIC KEY BLOCK-----', '', ...pemLines(b64(rng, 600)), `=${b64(rng, 3)}`, '-----END PGP PUBLIC KEY BLOCK-----']);
  add('public-key', 'JWKS', 'json', 'jwks.json', ['{ "keys": [ {', '  "kty": "RSA", "use": "sig", "alg": "RS256",', `  "kid": "${rng.str(40, HEX)}",`, `  "n": "${rng.bytes(256).toString('base64url')}",`, '  "e": "AQAB",', `  "x5c": ["${b64(rng, 700)}"]`, '} ] }']);
  add('public-key', 'public key settings', 'yaml', 'auth.yaml', ['oidc:', `  public_key: "${rng.bytes(32).toString('base64')}"`, `  publicKeyPem: "-----BEGIN PUBLIC KEY-----\\n${b64(rng, 64)}\\n-----END PUBLIC KEY-----"`, `  vapid_public_key: ${rng.bytes(65).toString('base64url')}`]);
  // base64 images and fonts
  add('base64-media', 'CSS font and image', 'text', 'styles.css', [
    '@font-face {', '  font-family: "Inter";', `  src: url(data:font/woff2;base64,${b64(rng, 1200)}) format("woff2");`, '}',
    `.logo { background-image: url("data:image/png;base64,${b64(rng, 600)}"); }`,
  ]);
  add('base64-media', 'HTML and markdown images', 'xml', 'email.html', [`<img alt="logo" src="data:image/jpeg;base64,${b64(rng, 900)}"/>`, `![chart](data:image/gif;base64,${b64(rng, 300)})`]);
  add('base64-media', 'SVG and icon in JS', 'js', 'icons.js', [`export const spinner = "data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M${rng.int(20)} ${rng.int(20)}h4v4z"/></svg>`).toString('base64')}";`, `export const favicon = "data:image/x-icon;base64,${b64(rng, 400)}";`]);
  // minified code and build artefacts
  const ids = (n: number): string => rng.str(1, LOWER) + rng.str(n - 1, LOWER + UPPER + DIGITS);
  const minified = Array.from({ length: 40 }, () => `${ids(2)}=function(${ids(1)},${ids(1)}){return ${ids(1)}.token=${ids(1)}.apiKey||"",${ids(1)}.secret?${ids(2)}(${ids(1)}):void 0}`).join(',');
  add('minified', 'minified bundle', 'js', 'main.8f3a2c1b.min.js', [`!function(){"use strict";var ${minified};window.__auth={password:null,token:e.t,apiKey:n.k}}();`]);
  add('minified', 'source map', 'json', 'main.js.map', ['{', '  "version": 3,', '  "sources": ["src/auth/token.ts"],', `  "mappings": "${Array.from({ length: 300 }, () => rng.str(2 + rng.int(6), B62 + '+/')).join(';')}",`, '  "names": ["token", "secret", "apiKey"]', '}']);
  add('minified', 'hashed asset names', 'json', 'asset-manifest.json', ['{', `  "main.js": "/static/js/main.${rng.str(8, HEX)}.js",`, `  "auth-token.js": "/static/js/auth-token.${rng.str(20, B62)}.chunk.js",`, `  "secret-page.css": "/static/css/secret-page.${rng.str(8, HEX)}.css"`, '}']);
  // code that names secrets without holding one
  add('code-reference', 'secret-named code', 'py', 'auth.py', [
    'token = request.headers.get("Authorization", "").removeprefix("Bearer ")',
    'api_key: Optional[str] = None',
    'password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())',
    'self.access_key = credentials.access_key',
    'SECRET_KEY_LENGTH = 64',
    'tokenizer = AutoTokenizer.from_pretrained("bert-base-multilingual-cased")',
  ]);
  add('code-reference', 'secret-named config', 'yaml', 'deployment.yaml', [
    'env:', '  - name: DB_PASSWORD', '    valueFrom:', '      secretKeyRef:', '        name: orders-db-credentials', '        key: password',
    '  - name: TOKEN_TTL', '    value: "3600"', '  secretName: tls-orders-internal-2024',
  ]);
  return out;
}

function plantNegatives(w: CorpusWriter, opts: CorpusOptions, rng: Rng): void {
  for (let copy = 0; copy < opts.negativeCopies; copy++) {
    for (const n of negatives(rng)) {
      w.write(`negatives/${n.category}`, n.name, n.type, n.lines, { kind: 'negative', group: n.category, label: n.label, context: n.name });
    }
  }
}

// ---------------------------------------------------------------------------------------------

export function generateCorpus(dir: string, rules: RuleDefinition[], opts: CorpusOptions): Corpus {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(opts.seed);
  const w = new CorpusWriter(dir, rng);
  const { skipped, staticRules } = plantRulePositives(w, rules, opts, rng);
  plantGenericPositives(w, opts, rng);
  plantNegatives(w, opts, rng);
  const manifest = createHash('sha256').update(JSON.stringify(w.planted)).digest('hex').slice(0, 12);
  writeFileSync(join(dir, '..', `${basename(dir)}.manifest.json`), JSON.stringify({ manifest, planted: w.planted }, null, 1));
  return { dir, files: w.files, bytes: w.bytes, planted: w.planted, skippedRenderings: skipped, staticRules };
}


