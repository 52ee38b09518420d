import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCorpus } from './corpus.js';
import { cli, hasCommand, peakMB, timeCommand, type BenchResult } from './measure.js';
import { loadRuleDir } from '../src/rules/load.js';

/** The rules whose patterns ripgrep runs as the reference: the 20 most common credential kinds. */
const REFERENCE_RULES = [
  'aws-access-key-id', 'aws-secret-access-key', 'github-pat-classic', 'github-oauth-token', 'github-app-installation-token',
  'github-fine-grained-pat', 'gitlab-pat', 'slack-bot-token', 'slack-user-token', 'slack-webhook-url',
  'stripe-secret-key-live', 'gcp-api-key', 'npm-access-token', 'sendgrid-api-key', 'twilio-api-key',
  'jwt', 'postgres-connection-uri', 'digitalocean-personal-access-token', 'azure-storage-connection-string', 'pypi-api-token',
];

/** Node reading every file once on one thread: the floor any scanner of this tree sits on. */
function rawReadSeconds(dir: string): { seconds: number; bytes: number } {
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += readFileSync(p).length;
    }
  };
  walk(dir);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes };
}

export async function benchDir(workDir: string): Promise<BenchResult[]> {
  const corpus = ensureCorpus(workDir);
  rawReadSeconds(corpus.dir); // warm the page cache so every contender reads from memory
  const raw = [rawReadSeconds(corpus.dir), rawReadSeconds(corpus.dir)].sort((a, b) => a.seconds - b.seconds)[0]!;
  const run = timeCommand(process.execPath, [cli, 'dir', corpus.dir, '-f', 'json', '-q'], { repeat: 3, env: { LEAKHOUND_STATS: '1' } });
  const found = (JSON.parse(run.stdout) as { findings: unknown[] }).findings.length;
  const rules = loadRuleDir();
  const results: BenchResult[] = [
    {
      name: `dir: ${corpus.files} files, all ${rules.length} rules (${found} findings, ${corpus.planted} planted)`,
      bytes: corpus.bytes,
      seconds: run.seconds,
      reference: { name: 'raw read, 1 Node thread', bytes: raw.bytes, seconds: raw.seconds },
      ...(peakMB(run.stderr) !== undefined ? { peakMB: peakMB(run.stderr)! } : {}),
    },
  ];
  if (hasCommand('rg')) {
    const byId = new Map(rules.map((r) => [r.id, r]));
    // ripgrep runs line by line: a multi-line pattern would need -U, which is a different (slower) mode
    const patterns = REFERENCE_RULES.map((id) => byId.get(id)?.pattern).filter((p): p is string => p !== undefined && !p.includes('\\n'));
    rawReadSeconds(corpus.dir); // warm again: the VM pages out cache left untouched for a while
    const rg = timeCommand('rg', ['-j', '2', '--hidden', '--no-ignore', '-c', '--no-messages', ...patterns.flatMap((p) => ['-e', `(?:${p.replace(/\(\?P?<[A-Za-z_]+>/g, '(')})`]), corpus.dir], { repeat: 3 });
    results.push({
      name: `dir vs ripgrep (rg -j2, ${patterns.length} rule patterns)`,
      bytes: corpus.bytes,
      seconds: run.seconds,
      reference: { name: `ripgrep, ${patterns.length} patterns, 2 threads`, bytes: corpus.bytes, seconds: rg.seconds },
    });
  } else {
    results.push({ name: 'dir vs ripgrep', bytes: corpus.bytes, seconds: run.seconds, note: 'rg not installed (apt-get install ripgrep)' });
  }
  return results;
}
