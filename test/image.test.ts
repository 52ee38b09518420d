import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createGzip, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { githubToken } from './helpers/secrets.js';
import { buildImage, dockerSave, ociLayout, sha256, tar, tarHeader, tarOf, zip, type ImageSpec } from './helpers/image-builder.js';

interface Loc {
  path: string;
  line: number;
  column: number;
  properties?: Record<string, string | number | boolean>;
}
interface Report {
  summary: { findings: number; filesScanned: number };
  findings: { ruleId: string; redacted: string; locations: Loc[] }[];
}
const json = (s: string): Report => JSON.parse(s) as Report;
/** Every location of every finding, flattened. */
const locs = (r: Report): Loc[] => r.findings.flatMap((f) => f.locations);

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir('leakhound-image-')));
afterAll(() => cleanup());

const write = (name: string, data: Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
/** A gzip layer written as it is produced (layers too large to build in memory), and its end. */
const gzipLayerFile = (name: string): { path: string; gz: ReturnType<typeof createGzip>; done: Promise<unknown> } => {
  const path = join(dir, name);
  const gz = createGzip({ level: 1 });
  const done = new Promise((res, rej) => gz.pipe(createWriteStream(path)).on('finish', res).on('error', rej));
  return { path, gz, done };
};
/** A docker save tar of one image whose only layer is the gzip layer file at `layerPath`. */
const writeImageAroundLayer = (name: string, layerPath: string, repoTag: string): string => {
  const img = buildImage({ layers: [{ files: [] }] });
  return write(
    name,
    tar([
      { name: 'l/layer.tar.gz', data: readFileSync(layerPath) },
      { name: 'c.json', data: img.config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: [repoTag], Layers: ['l/layer.tar.gz'] }]) },
    ]),
  );
};
const writeLayout = (name: string, files: Map<string, Buffer>): string => {
  const root = join(dir, name);
  for (const [p, b] of files) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), b);
  }
  return root;
};

describe('leakhound image: docker save', () => {
  const base = githubToken();
  const app = githubToken();
  const deleted = githubToken();
  const opaque = githubToken();
  const spec: ImageSpec = {
    layers: [
      { files: [{ name: 'etc/', type: 'dir' }, { name: 'etc/base.conf', data: `token=${base}\n` }], createdBy: '/bin/sh -c #(nop) ADD file:abc in /' },
      {
        files: [
          { name: './app/config.env', data: `# app\nGITHUB_TOKEN=${app}\n` },
          { name: 'app/secret.env', data: `T=${deleted}\n` },
          { name: 'app/cache/key.txt', data: `k=${opaque}\n` },
        ],
        createdBy: 'COPY . /app # buildkit',
      },
      { files: [{ name: 'app/.wh.secret.env' }, { name: 'app/cache/.wh..wh..opq' }], createdBy: 'RUN rm /app/secret.env && rm -rf /app/cache/*' },
    ],
  };
  let image: string;
  beforeAll(() => {
    image = write('app.tar', dockerSave([{ spec, tags: ['example/app:1.0'] }]));
  });

  it('finds secrets in every layer with image, layer digest, index, history step and path', () => {
    const r = runCli(['image', image, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const report = json(r.stdout);
    const l = locs(report);
    const cfg = l.find((x) => x.path === 'app/config.env')!;
    expect(cfg).toBeDefined();
    expect(cfg.line).toBe(2);
    expect(cfg.column).toBe(14);
    const img = buildImage(spec);
    expect(cfg.properties).toMatchObject({
      image: 'example/app:1.0',
      layer: `sha256:${sha256(img.layerTars[1]!)}`,
      layerIndex: 1,
      createdBy: 'COPY . /app # buildkit',
    });
    expect(cfg.properties!['deletedInLayer']).toBeUndefined();
    expect(l.find((x) => x.path === 'etc/base.conf')!.properties).toMatchObject({ layerIndex: 0 });
    expect(r.stdout).not.toContain(app);
  });

  it('scans files a later layer deletes (whiteout, opaque dir) and says where they were deleted', () => {
    const r = runCli(['image', image, '-f', 'json']);
    const l = locs(json(r.stdout));
    expect(l.find((x) => x.path === 'app/secret.env')!.properties).toMatchObject({ layerIndex: 1, deletedInLayer: 2 });
    expect(l.find((x) => x.path === 'app/cache/key.txt')!.properties).toMatchObject({ layerIndex: 1, deletedInLayer: 2 });
    const text = runCli(['image', image]).stdout;
    expect(text).toMatch(/app\/secret\.env:1:3 {2}\(layer 1, deleted in layer 2\)/);
    expect(text).not.toContain(deleted);
  });

  it('SARIF: the URI is the path inside the image; properties carry image, layer, layerIndex, deletedInLayer', () => {
    const r = runCli(['image', image, '-f', 'sarif']);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } }; properties?: Record<string, unknown> }[] }[] }[] };
    const all = sarif.runs[0]!.results.flatMap((x) => x.locations);
    const del = all.find((x) => x.physicalLocation.artifactLocation.uri === 'app/secret.env')!;
    expect(del.properties).toMatchObject({ image: 'example/app:1.0', layerIndex: 1, deletedInLayer: 2 });
    expect(String(del.properties!['layer'])).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const t of [base, app, deleted, opaque]) expect(r.stdout).not.toContain(t);
  });

  it('reads the tar the same whether manifest.json comes first or last', () => {
    const first = write('first.tar', dockerSave([{ spec, tags: ['example/app:1.0'] }], { manifestFirst: true }));
    const a = json(runCli(['image', image, '-f', 'json']).stdout);
    const b = json(runCli(['image', first, '-f', 'json']).stdout);
    expect(b.findings).toEqual(a.findings);
    expect(a.findings).toHaveLength(4);
  });

  it('reads a gzip-compressed docker save (docker save | gzip)', () => {
    const gz = write('app.tar.gz', gzipSync(dockerSave([{ spec, tags: ['example/app:1.0'] }])));
    const r = runCli(['image', gz, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(json(r.stdout).findings).toHaveLength(4);
  });
});

describe('leakhound image: config', () => {
  it('scans Env, Cmd, Entrypoint, Labels and history created_by, path image-config; the history step in properties is redacted', () => {
    const [env, cmd, entry, label, hist] = [githubToken(), githubToken(), githubToken(), githubToken(), githubToken()];
    const spec: ImageSpec = {
      container: { Env: ['PATH=/usr/bin', `GH_TOKEN=${env}`], Cmd: ['run', `--token=${cmd}`], Entrypoint: ['/bin/app', `${entry}`], Labels: { 'org.token': label } },
      layers: [{ files: [{ name: 'a.txt', data: 'nothing\n' }], createdBy: `RUN |1 TOKEN=${hist} /bin/sh -c ./build.sh` }],
    };
    const p = write('config.tar', dockerSave([{ spec, tags: ['cfg:latest'] }]));
    const r = runCli(['image', p, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const all = json(r.stdout);
    const l = all.findings.filter((f) => f.ruleId === 'github-pat-classic').flatMap((f) => f.locations);
    expect(locs(all).every((x) => x.path === 'image-config')).toBe(true);
    const fields = l.map((x) => x.properties!['field']).sort();
    expect(fields).toEqual(['Cmd', 'Entrypoint', 'Env[1]', 'Labels.org.token', 'history[0].created_by']);
    expect(l[0]!.properties!['image']).toBe('cfg:latest');
    for (const t of [env, cmd, entry, label, hist]) expect(r.stdout).not.toContain(t);
    // the layer's history step is carried in locations of layer findings, never with its secret
    const withFile = write(
      'config2.tar',
      dockerSave([{ spec: { layers: [{ files: [{ name: 'x.env', data: `A=${env}\n` }], createdBy: `RUN TOKEN=${hist} make` }] }, tags: ['cfg:2'] }]),
    );
    const r2 = runCli(['image', withFile, '-f', 'json', '--show-secrets']);
    const fileLoc = locs(json(r2.stdout)).find((x) => x.path === 'x.env')!;
    expect(String(fileLoc.properties!['createdBy'])).toMatch(/^RUN TOKEN=ghp_\*+ make$/);
  });
});

describe('leakhound image: OCI layouts, compression, platforms', () => {
  const tokens = { gzip: githubToken(), zstd: githubToken(), none: githubToken(), arm: githubToken() };
  const amd: ImageSpec = {
    layers: [
      { files: [{ name: 'gz.txt', data: `a ${tokens.gzip}\n` }], compression: 'gzip' },
      { files: [{ name: 'zst.txt', data: `b ${tokens.zstd}\n${'filler line\n'.repeat(20000)}` }], compression: 'zstd' },
      { files: [{ name: 'plain.txt', data: `c ${tokens.none}\n` }], compression: 'none' },
    ],
  };
  const arm: ImageSpec = { os: 'linux', architecture: 'arm64', variant: 'v8', layers: [{ files: [{ name: 'arm.txt', data: `d ${tokens.arm}\n` }], compression: 'gzip' }] };

  it('reads an OCI layout directory with gzip, zstd and uncompressed layers', () => {
    const root = writeLayout('oci-dir', ociLayout([amd], { name: 'registry.example/app:2' }));
    const r = runCli(['image', root, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const l = locs(json(r.stdout));
    expect(l.map((x) => x.path).sort()).toEqual(['gz.txt', 'plain.txt', 'zst.txt']);
    expect(l[0]!.properties!['image']).toBe('registry.example/app:2');
    expect(l.find((x) => x.path === 'zst.txt')!.properties!['layer']).toBe(buildImage(amd).layerDigests[1]);
  });

  it('reads an OCI layout as a tar; a multi-platform index scans all platforms by default, --platform picks', () => {
    const p = write('multi.tar', tarOf(ociLayout([amd, arm], { name: 'multi:1', multiPlatform: true })));
    const all = json(runCli(['image', p, '-f', 'json']).stdout);
    expect(locs(all).map((x) => `${x.properties!['platform']} ${x.path}`).sort()).toEqual([
      'linux/amd64 gz.txt',
      'linux/amd64 plain.txt',
      'linux/amd64 zst.txt',
      'linux/arm64/v8 arm.txt',
    ]);
    const armOnly = json(runCli(['image', p, '-f', 'json', '--platform', 'linux/arm64']).stdout);
    expect(locs(armOnly).map((x) => x.path)).toEqual(['arm.txt']);
    const bad = runCli(['image', p, '--platform', 'windows/amd64']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no image for platform windows\/amd64 \(available: linux\/amd64, linux\/arm64\/v8\)/);
  });
});

describe('leakhound image: archives inside layers', () => {
  it('opens jar/zip/tar.gz to the depth limit with ! paths; --archive-depth limits it', () => {
    const [t1, t2, t3] = [githubToken(), githubToken(), githubToken()];
    const inner = gzipSync(tar([{ name: 'conf/deep.yaml', data: `k: ${t3}\n` }]));
    const jar = zip([
      { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
      { name: 'BOOT-INF/application.properties', data: `github.token=${t1}\n` },
      { name: 'BOOT-INF/lib/nested.jar', data: zip([{ name: 'x.properties', data: `t=${t2}\n` }]), method: 'store' },
      { name: 'BOOT-INF/lib/bundle.tar.gz', data: inner, method: 'store' },
    ]);
    const p = write('jar.tar', dockerSave([{ spec: { layers: [{ files: [{ name: 'opt/app/app.jar', data: jar }] }] }, tags: ['jar:1'] }]));
    const l = locs(json(runCli(['image', p, '-f', 'json']).stdout));
    expect(l.map((x) => x.path).sort()).toEqual([
      'opt/app/app.jar!/BOOT-INF/application.properties',
      'opt/app/app.jar!/BOOT-INF/lib/bundle.tar.gz!/conf/deep.yaml',
      'opt/app/app.jar!/BOOT-INF/lib/nested.jar!/x.properties',
    ]);
    const shallow = locs(json(runCli(['image', p, '-f', 'json', '--archive-depth', '1']).stdout));
    expect(shallow.map((x) => x.path)).toEqual(['opt/app/app.jar!/BOOT-INF/application.properties']);
  });

  it('a zip bomb inside a layer is a warning; the rest of the image is still scanned', () => {
    const t = githubToken();
    const bomb = zip([{ name: 'zeros.bin', data: Buffer.alloc(8 * 2 ** 20) }]);
    const p = write('bomb.tar', dockerSave([{ spec: { layers: [{ files: [{ name: 'b/bomb.zip', data: bomb }, { name: 'b/ok.txt', data: `t=${t}\n` }] }] }, tags: ['bomb:1'] }]));
    const r = runCli(['image', p, '-f', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/b\/bomb\.zip!\/zeros\.bin: expands \d+:1 \(decompression bomb\?\)/);
    expect(locs(json(r.stdout)).map((x) => x.path)).toEqual(['b/ok.txt']);
  });
});

describe('leakhound image: layers scanned once', () => {
  const baseToken = githubToken();
  const baseLayer = { files: [{ name: 'base/secret.txt', data: `x=${baseToken}\n` }] };
  const mk = (tag: string, t: string) => dockerSave([{ spec: { layers: [baseLayer, { files: [{ name: `${tag}.txt`, data: `y=${t}\n` }] }] }, tags: [`${tag}:1`] }]);

  it('a base layer shared by two images is scanned once in a run', () => {
    const a = write('shared-a.tar', mk('a', githubToken()));
    const b = write('shared-b.tar', mk('b', githubToken()));
    const r = runCli(['image', a, b, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const report = json(r.stdout);
    const base = report.findings.find((f) => f.locations.some((x) => x.path === 'base/secret.txt'))!;
    expect(base.locations).toHaveLength(1);
    expect(base.locations[0]!.properties!['image']).toBe('a:1');
    expect(report.summary.filesScanned).toBe(5); // 2 configs, base once, a.txt, b.txt
  });

  it('--incremental skips layers scanned by an earlier run; the state file holds digests only', () => {
    const state = join(dir, 'state', 'image-state');
    const a = write('inc-a.tar', mk('a', githubToken()));
    const c = write('inc-c.tar', mk('c', githubToken()));
    const first = runCli(['image', a, '-f', 'json', '--incremental', '--image-state', state]);
    expect(locs(json(first.stdout)).map((x) => x.path).sort()).toEqual(['a.txt', 'base/secret.txt']);
    expect(existsSync(state)).toBe(true);
    const saved = readFileSync(state, 'utf8');
    expect(saved).not.toContain(baseToken);
    expect(saved).not.toContain('secret.txt');
    const second = runCli(['image', c, '-f', 'json', '--incremental', '--image-state', state]);
    expect(locs(json(second.stdout)).map((x) => x.path)).toEqual(['c.txt']);
    const again = runCli(['image', a, '-f', 'json', '--incremental', '--image-state', state]);
    expect(again.code).toBe(0);
    // without --incremental, everything again
    expect(locs(json(runCli(['image', a, '-f', 'json']).stdout))).toHaveLength(2);
  });
});

describe('leakhound image: bad input', () => {
  const good = githubToken();
  const goodLayer = { files: [{ name: 'good.txt', data: `t=${good}\n` }] };

  it('a corrupt gzip layer, a truncated layer and a missing blob are warnings; intact layers are scanned', () => {
    const t2 = githubToken();
    const spec: ImageSpec = {
      layers: [
        goodLayer,
        { files: [{ name: 'bad.txt', data: 'x\n'.repeat(1000) }], compression: 'gzip' },
        { files: [{ name: 'early.txt', data: `t=${t2}\n` }, { name: 'late.txt', data: 'y'.repeat(20000) }] },
      ],
    };
    const img = buildImage(spec);
    const corrupt = Buffer.from(img.layerBlobs[1]!);
    corrupt.fill(0x55, 20, 60);
    const truncated = img.layerBlobs[2]!.subarray(0, 3000);
    const files: { name: string; data?: Buffer | string; type?: 'dir' }[] = [
      { name: 'l0/layer.tar', data: img.layerBlobs[0]! },
      { name: 'l1/layer.tar', data: corrupt },
      { name: 'l2/layer.tar', data: truncated },
      { name: 'cfg.json', data: img.config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['bad:1'], Layers: ['l0/layer.tar', 'l1/layer.tar', 'l2/layer.tar', 'l3/layer.tar'] }]) },
    ];
    const p = write('damaged.tar', tar(files));
    const r = runCli(['image', p, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(locs(json(r.stdout)).map((x) => x.path).sort()).toEqual(['early.txt', 'good.txt']);
    expect(r.stderr).toMatch(/layer 1 .*corrupt/);
    expect(r.stderr).toMatch(/layer 2 .*truncated/);
    expect(r.stderr).toMatch(/blob l3\/layer\.tar is missing/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a truncated image tar: the intact part is scanned', () => {
    const whole = dockerSave([{ spec: { layers: [goodLayer, { files: [{ name: 'big.bin', data: 'z'.repeat(50000) }] }] }, tags: ['cut:1'] }], { manifestFirst: true });
    const p = write('cut.tar', whole.subarray(0, whole.length - 30000));
    const r = runCli(['image', p, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/truncated/);
    expect(locs(json(r.stdout)).map((x) => x.path)).toContain('good.txt');
  });

  it('../ names in a layer and in the manifest are skipped with a warning; nothing is written to disk', () => {
    const t = githubToken();
    const img = buildImage({ layers: [{ files: [{ name: '../../etc/evil', data: `t=${t}\n` }, goodLayer.files[0]!] }] });
    const p = write(
      'escape.tar',
      tar([
        { name: 'l0/layer.tar', data: img.layerBlobs[0]! },
        { name: 'cfg.json', data: img.config },
        { name: 'manifest.json', data: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['esc:1'], Layers: ['l0/layer.tar', '../../outside/layer.tar'] }]) },
      ]),
    );
    const before = readdirSync(dir).sort();
    const r = runCli(['image', p, '-f', 'json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/entry '\.\.\/\.\.\/etc\/evil' has an unsafe path, skipped/);
    expect(r.stderr).toMatch(/layer path '\.\.\/\.\.\/outside\/layer\.tar' leaves the image/);
    expect(locs(json(r.stdout)).map((x) => x.path)).toEqual(['good.txt']);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, '..', 'etc', 'evil'))).toBe(false);
  });

  it('not an image, a missing path, nothing readable: exit 2 with one line', () => {
    const notImage = write('notes.txt', Buffer.from('just text\n'.repeat(100)));
    const noManifest = write('nomanifest.tar', tar([{ name: 'hello.txt', data: 'hi' }]));
    const allMissing = write('allmissing.tar', tar([{ name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['m:1'], Layers: ['x/layer.tar'] }]) }]));
    for (const args of [['image', notImage], ['image', join(dir, 'nope.tar')], ['image', noManifest], ['image', allMissing], ['image']]) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/leakhound: error: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
  });
});

describe('leakhound image: bounded memory', () => {
  it('a layer with a 300 MB file is streamed, not held: the secret at its end is found, peak RSS stays low', async () => {
    const t = githubToken();
    // Generated as a stream: Linux carries a parent's peak RSS into a spawned child's maxRSS,
    // so this test process must not hold the 300 MB itself.
    const size = 300 * 2 ** 20;
    const unit = Buffer.alloc(2 ** 20, 'log line without secrets\n');
    const { path: layerPath, gz, done } = gzipLayerFile('big-layer.tar.gz');
    gz.write(tarHeader('var/big.log', size, '0'));
    for (let i = 0; i < 300; i++) {
      const chunk = i === 299 ? Buffer.concat([unit.subarray(0, unit.length - 100), Buffer.from(`end=${t}\n`), unit.subarray(unit.length - 100 + 5 + t.length)]) : unit;
      if (!gz.write(chunk)) await new Promise((r) => gz.once('drain', r));
    }
    gz.end(Buffer.alloc(1024));
    await done;
    const p = writeImageAroundLayer('big.tar', layerPath, 'big:1');
    const r = runCli(['image', p, '-f', 'json'], { env: { LEAKHOUND_STATS: '1' } });
    expect(r.code, r.stderr).toBe(1);
    const nl = (b: Buffer): number => b.toString('latin1').split('\n').length - 1;
    const line = 299 * nl(unit) + nl(unit.subarray(0, unit.length - 100)) + 1;
    expect(locs(json(r.stdout)).map((x) => `${x.path}:${x.line}`)).toEqual([`var/big.log:${line}`]);
    const rss = Number(/maxRSS=(\d+)KB/.exec(r.stderr)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss / 1024).toBeLessThan(280); // the file alone is 300 MB
  });

  it('a large binary member is skipped at its first window, and the member after it is still scanned', async () => {
    const t = githubToken();
    const size = 70 * 2 ** 20; // over the 64 MB line between held and streamed members
    const { path: layerPath, gz, done } = gzipLayerFile('binary-layer.tar.gz');
    gz.write(tarHeader('opt/model.bin', size, '0'));
    const zeros = Buffer.alloc(2 ** 20);
    for (let i = 0; i < 70; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once('drain', r));
    const after = Buffer.from(`KEY=${t}\n`);
    gz.write(tarHeader('app/.env', after.length, '0'));
    gz.write(Buffer.concat([after, Buffer.alloc(512 - after.length)]));
    gz.end(Buffer.alloc(1024));
    await done;
    const p = writeImageAroundLayer('binary.tar', layerPath, 'bin:1');
    const r = runCli(['image', p, '-f', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(locs(json(r.stdout)).map((x) => `${x.path}:${x.line}`)).toEqual(['app/.env:1']);
    expect((JSON.parse(r.stdout) as { summary: { skipped: { binary: number } } }).summary.skipped.binary).toBe(1);
    expect(r.stderr).not.toMatch(/truncated|corrupt/);
  });
});
