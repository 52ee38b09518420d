import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, githubToken } from './random.js';

/**
 * A generated git history for the history benchmark: many commits, each editing a file of source-like
 * text, so every commit adds a new blob that git stores as a delta (like a real project). Built with
 * `git fast-import` and repacked; deterministic per parameters, rebuilt only when missing.
 */
export interface HistoryRepo {
  dir: string;
  commits: number;
  blobs: number;
  /** Sum of the sizes of all unique blobs. */
  blobBytes: number;
  planted: number;
}

export interface HistoryParams {
  commits: number;
  files: number;
  /** Average file size in bytes. */
  fileBytes: number;
  /** Tokens planted (one per chosen commit). */
  plant: number;
}


const WORDS = 'user account token request response handler config service client server cache session value result error data item list index count total name path file buffer stream reader writer parse format render update delete create fetch query record field model schema event message queue worker task job state store key password header body status code timeout retry limit offset page size'.split(' ');

function ident(r: Rng): string {
  const a = r.pick(WORDS);
  const b = r.pick(WORDS);
  return a + b.charAt(0).toUpperCase() + b.slice(1);
}

function line(r: Rng): string {
  switch (r.int(6)) {
    case 0:
      return `  const ${ident(r)} = ${ident(r)}(${ident(r)}, ${r.int(10000)});`;
    case 1:
      return `  if (${ident(r)}.${r.pick(WORDS)} > ${r.int(500)}) return ${ident(r)};`;
    case 2:
      return `  // ${r.pick(WORDS)} the ${r.pick(WORDS)} before ${r.pick(WORDS)} ${r.pick(WORDS)} is ${r.pick(WORDS)}`;
    case 3:
      return `export function ${ident(r)}(${r.pick(WORDS)}: ${r.pick(['string', 'number', 'Buffer', 'boolean'])}) {`;
    case 4:
      return '}';
    default:
      return `  ${ident(r)}.${r.pick(WORDS)} = await ${ident(r)}.${r.pick(WORDS)}(${r.pick(WORDS)});`;
  }
}


function git(dir: string, args: string[]): void {
  const r = spawnSync('git', ['-C', dir, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

export async function ensureHistoryRepo(workDir: string, p: HistoryParams): Promise<HistoryRepo> {
  const name = `history-${p.commits}c-${p.files}f-${p.fileBytes}b-${p.plant}p-v1`;
  const dir = join(workDir, name);
  const metaFile = join(workDir, `${name}.json`);
  if (existsSync(metaFile) && existsSync(dir)) return JSON.parse(readFileSync(metaFile, 'utf8')) as HistoryRepo;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  const r = new Rng(0x2545f491 ^ p.commits);
  const linesPer = Math.max(1, Math.round(p.fileBytes / 48));
  const files: string[][] = [];
  for (let f = 0; f < p.files; f++) {
    const ls: string[] = [];
    for (let i = 0; i < linesPer; i++) ls.push(line(r));
    files.push(ls);
  }
  const plantAt = new Set<number>();
  while (plantAt.size < p.plant) plantAt.add(1 + r.int(p.commits - 1));
  const fi = spawn('git', ['-C', dir, 'fast-import', '--quiet', '--depth=50'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<number>((res) => fi.on('close', (c) => res(c ?? -1)));
  const write = async (s: string): Promise<void> => {
    if (!fi.stdin.write(s)) await new Promise<void>((res) => fi.stdin.once('drain', () => res()));
  };
  let blobs = 0;
  let blobBytes = 0;
  const path = (f: number) => `src/${WORDS[f % WORDS.length]}/${ident(new Rng(f + 1))}_${f}.ts`;
  for (let c = 0; c < p.commits; c++) {
    const t = 1_600_000_000 + c * 600;
    const touched: number[] = c === 0 ? files.map((_, i) => i) : [r.int(p.files)];
    let body = '';
    await write(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${t} +0000\ndata <<EOM\nchange ${c}\nEOM\n`);
    for (const f of touched) {
      const ls = files[f]!;
      if (c > 0) {
        const edits = Math.max(1, Math.round(ls.length * 0.03));
        for (let e = 0; e < edits; e++) ls[r.int(ls.length)] = line(r);
        if (r.int(4) === 0) ls.push(line(r));
      }
      if (plantAt.has(c)) ls[r.int(ls.length)] = `  const githubToken = "${githubToken(r)}";`;
      const content = ls.join('\n') + '\n';
      const len = Buffer.byteLength(content);
      blobs++;
      blobBytes += len;
      body = `M 100644 inline ${path(f)}\ndata ${len}\n${content}\n`;
      await write(body);
    }
  }
  fi.stdin.end();
  if ((await done) !== 0) throw new Error('git fast-import failed');
  git(dir, ['repack', '-a', '-d', '-q', '--window=10', '--depth=50']);
  git(dir, ['reset', '-q', '--hard', 'main']);
  const repo: HistoryRepo = { dir, commits: p.commits, blobs, blobBytes, planted: p.plant };
  writeFileSync(metaFile, JSON.stringify(repo));
  return repo;
}
