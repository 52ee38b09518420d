import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { B62, Rng, githubToken } from './random.js';

/**
 * A generated working tree that looks like a real repository: source in several languages, config,
 * lockfiles and docs, tens of thousands of files, with a few hundred planted secrets.
 * Deterministic per seed so runs compare; regenerated only when missing.
 */
export interface Corpus {
  dir: string;
  files: number;
  bytes: number;
  planted: number;
}

const CORPUS_VERSION = 5;


const WORDS = 'user account request response handler config service client cache value result error data item list index count total name path file buffer stream reader writer parse format render update delete create fetch query record field model schema event message queue worker task job state store header body status code timeout retry limit offset page size'.split(' ');
/**
 * Words that secret rules key on. In real code they are not everywhere: in this project's own
 * node_modules (3,294 source files) "token" is in 6% of files, "server" 6.6%, "password" 1.5%,
 * "secret" 1%. Drawn rarely here to match, so the bench is not dominated by an unrealistic density.
 */
const SENSITIVE = 'token server password secret key auth session credential'.split(' ');

function word(r: Rng): string {
  return r.next() < 0.0006 ? r.pick(SENSITIVE) : r.pick(WORDS);
}

function ident(r: Rng): string {
  const a = word(r);
  const b = word(r);
  return r.int(2) ? `${a}${b[0]!.toUpperCase()}${b.slice(1)}` : `${a}_${b}`;
}

function b62(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += B62[r.int(62)];
  return s;
}


const PLANTS: ((r: Rng) => string)[] = [
  (r) => `const token = "${githubToken(r)}";`,
  (r) => `AWS_ACCESS_KEY_ID=AKIA${Array.from({ length: 16 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[r.int(32)]).join('')}`,
  (r) => `SLACK_BOT_TOKEN=xoxb-${1000000000 + r.int(8999999999)}-${1000000000 + r.int(8999999999)}-${b62(r, 24)}`,
  (r) => `stripe_key: sk_live_${b62(r, 24)}`,
  (r) => `DATABASE_URL=postgres://app:${b62(r, 20)}@db.internal:5432/app`,
];

function jsFile(r: Rng, lines: number): string {
  const out: string[] = [`import { ${ident(r)} } from './${ident(r)}.js';`, ''];
  for (let i = 0; i < lines; i++) {
    const v = ident(r);
    switch (r.int(6)) {
      case 0: out.push(`export function ${v}(${ident(r)}, ${ident(r)}) {`); break;
      case 1: out.push(`  const ${v} = await ${ident(r)}.${ident(r)}(${r.int(1000)}, "${word(r)} ${word(r)}");`); break;
      case 2: out.push(`  if (${v} === null) throw new Error("${word(r)} ${word(r)} failed: " + ${ident(r)});`); break;
      case 3: out.push(`  // ${word(r)} the ${word(r)} before ${word(r)}ing the ${word(r)}`); break;
      case 4: out.push(`  return { ${v}, ${ident(r)}: ${r.int(65536)}, id: "${randomHex(r, 8)}" };`); break;
      default: out.push('}');
    }
  }
  return out.join('\n') + '\n';
}

function pyFile(r: Rng, lines: number): string {
  const out: string[] = [`import ${word(r)}`, ''];
  for (let i = 0; i < lines; i++) {
    switch (r.int(5)) {
      case 0: out.push(`def ${ident(r)}(${ident(r)}, ${ident(r)}=None):`); break;
      case 1: out.push(`    ${ident(r)} = self.${ident(r)}.get("${word(r)}", ${r.int(100)})`); break;
      case 2: out.push(`    # ${word(r)} ${word(r)} ${word(r)}`); break;
      case 3: out.push(`    logger.info("%s ${word(r)}", ${ident(r)})`); break;
      default: out.push(`    return ${ident(r)}`);
    }
  }
  return out.join('\n') + '\n';
}

function yamlFile(r: Rng, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(r.int(4) === 0 ? `${word(r)}:` : `  ${ident(r)}: ${r.int(2) ? r.int(10000) : word(r) + '-' + word(r)}`);
  }
  return out.join('\n') + '\n';
}

function lockFile(r: Rng, entries: number): string {
  const out: string[] = ['{', '  "lockfileVersion": 3,', '  "packages": {'];
  for (let i = 0; i < entries; i++) {
    out.push(`    "node_modules/${ident(r)}": { "version": "${r.int(10)}.${r.int(20)}.${r.int(30)}", "integrity": "sha512-${randomB64(r, 86)}==" },`);
  }
  out.push('  }', '}');
  return out.join('\n') + '\n';
}

function randomHex(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[r.int(16)];
  return s;
}

function randomB64(r: Rng, n: number): string {
  const a = B62 + '+/';
  let s = '';
  for (let i = 0; i < n; i++) s += a[r.int(64)];
  return s;
}

export function ensureCorpus(root: string, targetBytes = 210 * 1024 * 1024, seed = 1234): Corpus {
  const dir = join(root, `corpus-v${CORPUS_VERSION}-${targetBytes}`);
  const marker = join(dir, '.corpus.json');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as Corpus;
  const r = new Rng(seed);
  let bytes = 0;
  let files = 0;
  let planted = 0;
  const plantEvery = 120;
  while (bytes < targetBytes) {
    const sub = join(dir, `pkg${files % 97}`, ['src', 'lib', 'test', 'config', 'docs'][files % 5]!, `m${(files >> 7) % 31}`);
    if (files % 400 === 0 || !existsSync(sub)) mkdirSync(sub, { recursive: true });
    const kind = r.int(10);
    let name: string;
    let content: string;
    const lines = 20 + r.int(260);
    if (kind < 4) { name = `${ident(r)}${files}.js`; content = jsFile(r, lines); }
    else if (kind < 7) { name = `${ident(r)}${files}.py`; content = pyFile(r, lines); }
    else if (kind < 9) { name = `${ident(r)}${files}.yaml`; content = yamlFile(r, lines); }
    else { name = `package-lock${files}.json`; content = lockFile(r, 20 + r.int(150)); }
    if (files % plantEvery === 0) {
      const ls = content.split('\n');
      ls.splice(r.int(ls.length), 0, r.pick(PLANTS)(r));
      content = ls.join('\n');
      planted++;
    }
    writeFileSync(join(sub, name), content);
    bytes += Buffer.byteLength(content);
    files++;
  }
  const corpus: Corpus = { dir, files, bytes, planted };
  writeFileSync(marker, JSON.stringify(corpus));
  void randomBytes;
  return corpus;
}
