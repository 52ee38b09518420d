import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { ensureCorpus } from './corpus.js';
import { cli, peakMB, timeCommand, type BenchResult } from './measure.js';

/**
 * `leakhound image` on a generated image: the bench corpus (about 320 MB of source, config and
 * lockfiles with planted secrets) split across 5 layers, as `docker save` writes it (uncompressed
 * layers, manifest last) and as an OCI layout tar with gzip layers. The reference is
 * `leakhound dir` on the same files unpacked: the core's directory-scan rate on the same bytes.
 */

const LAYERS = 5;
const VERSION = 1;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Writes a layer tar (optionally gzip) holding `files`, returns its path, sha256 and the uncompressed diff id. */
async function writeLayer(root: string, files: string[], out: string, gzip: boolean): Promise<{ path: string; digest: string; diffId: string }> {
  const pack = tar.pack();
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  const done = (async () => {
    const sink = createWriteStream(out);
    const gz = gzip ? createGzip({ level: 1 }) : undefined;
    const src = pack as unknown as NodeJS.ReadableStream;
    src.on('data', (c: Buffer) => diff.update(c));
    if (gz) {
      gz.on('data', (c: Buffer) => blob.update(c));
      await pipeline(src, gz, sink);
    } else {
      src.on('data', (c: Buffer) => blob.update(c));
      await pipeline(src, sink);
    }
  })();
  for (const f of files) {
    const data = readFileSync(f);
    await new Promise<void>((res, rej) => pack.entry({ name: `srv/${relative(root, f)}`, size: data.length, mtime: new Date(1700000000000) }, data, (e) => (e ? rej(e) : res())));
  }
  pack.finalize();
  await done;
  return { path: out, digest: `sha256:${blob.digest('hex')}`, diffId: `sha256:${diff.digest('hex')}` };
}

/** An outer tar of [name, file-or-buffer] entries, streamed. */
async function writeOuter(out: string, entries: [string, string | Buffer][]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(out));
  for (const [name, src] of entries) {
    if (Buffer.isBuffer(src)) {
      await new Promise<void>((res, rej) => pack.entry({ name }, src, (e) => (e ? rej(e) : res())));
    } else {
      await new Promise<void>((res, rej) => {
        const sink = pack.entry({ name, size: statSync(src).size }, (e) => (e ? rej(e) : res()));
        createReadStream(src).pipe(sink as unknown as NodeJS.WritableStream);
      });
    }
  }
  pack.finalize();
  await done;
}

async function ensureImages(workDir: string): Promise<{ tree: string; bytes: number; files: number; docker: string; oci: string }> {
  const corpus = ensureCorpus(workDir, 320 * 1024 * 1024, 4321);
  // named after the corpus they hold, so a new corpus version builds new images (the reference scans the corpus)
  const docker = join(workDir, `image-v${VERSION}-${basename(corpus.dir)}-docker.tar`);
  const oci = join(workDir, `image-v${VERSION}-${basename(corpus.dir)}-oci-gzip.tar`);
  if (existsSync(docker) && existsSync(oci)) return { tree: corpus.dir, bytes: corpus.bytes, files: corpus.files, docker, oci };
  const tmp = join(workDir, 'layers.tmp');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const files = filesUnder(corpus.dir);
  const groups = Array.from({ length: LAYERS }, (_, i) => files.filter((_, j) => j % LAYERS === i));
  for (const gzip of [false, true]) {
    const layers = [];
    for (let i = 0; i < LAYERS; i++) layers.push(await writeLayer(corpus.dir, groups[i]!, join(tmp, `l${i}${gzip ? '.gz' : ''}`), gzip));
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/usr/local/bin:/usr/bin'], Cmd: ['node', 'server.js'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map((_, i) => ({ created_by: `COPY part${i} /srv # buildkit` })),
      }),
    );
    const configDigest = createHash('sha256').update(config).digest('hex');
    if (!gzip) {
      const entries: [string, string | Buffer][] = layers.map((l, i) => [`layer${i}/layer.tar`, l.path]);
      entries.push([`${configDigest}.json`, config]);
      entries.push(['manifest.json', Buffer.from(JSON.stringify([{ Config: `${configDigest}.json`, RepoTags: ['bench/app:1'], Layers: layers.map((_, i) => `layer${i}/layer.tar`) }]))]);
      await writeOuter(docker, entries);
    } else {
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length },
          layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: statSync(l.path).size })),
        }),
      );
      const md = createHash('sha256').update(manifest).digest('hex');
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${md}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'bench/app:1' } }] }));
      const entries: [string, string | Buffer][] = [['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')]];
      for (const l of layers) entries.push([`blobs/sha256/${l.digest.slice(7)}`, l.path]);
      entries.push([`blobs/sha256/${configDigest}`, config], [`blobs/sha256/${md}`, manifest], ['index.json', index]);
      await writeOuter(oci, entries);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  writeFileSync(join(workDir, 'image.json'), JSON.stringify({ docker, oci }));
  return { tree: corpus.dir, bytes: corpus.bytes, files: corpus.files, docker, oci };
}

export async function benchImage(workDir: string): Promise<BenchResult[]> {
  mkdirSync(workDir, { recursive: true });
  const img = await ensureImages(workDir);
  const env = { LEAKHOUND_STATS: '1' };
  // warm the page cache for every contender
  timeCommand(process.execPath, [cli, 'dir', img.tree, '-f', 'json', '-q']);
  const dir = timeCommand(process.execPath, [cli, 'dir', img.tree, '-f', 'json', '-q'], { repeat: 3 });
  const reference = { name: 'leakhound dir on the same files', bytes: img.bytes, seconds: dir.seconds };
  const results: BenchResult[] = [];
  for (const [label, path] of [
    ['docker save, 5 uncompressed layers', img.docker],
    ['OCI layout tar, 5 gzip layers', img.oci],
  ] as const) {
    timeCommand(process.execPath, [cli, 'image', path, '-f', 'json', '-q']);
    const run = timeCommand(process.execPath, [cli, 'image', path, '-f', 'json', '-q'], { repeat: 3, env });
    const found = (JSON.parse(run.stdout) as { findings: unknown[] }).findings.length;
    const peak = peakMB(run.stderr);
    results.push({
      name: `image: ${label}, ${img.files} files, ${(statSync(path).size / 2 ** 20).toFixed(0)} MB on disk (${found} findings)`,
      bytes: img.bytes,
      seconds: run.seconds,
      reference,
      ...(peak !== undefined ? { peakMB: peak } : {}),
    });
  }
  return results;
}
