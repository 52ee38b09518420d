import { createHash } from 'node:crypto';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

/**
 * Builds container images by hand for tests: tar, gzip, zstd (raw blocks), zip, docker save and OCI
 * layouts, all in memory. No Docker, no network.
 */

export interface TarEntrySpec {
  name: string;
  data?: Buffer | string;
  type?: 'file' | 'dir' | 'symlink' | 'link';
  linkname?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

export function tarHeader(name: string, size: number, typeflag: string, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(typeflag === '5' ? 0o755 : 0o644, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(1700000000, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(typeflag, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

/** A ustar archive of the entries, with the two zero blocks at the end. */
export function tar(entries: TarEntrySpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const flag = type === 'dir' ? '5' : type === 'symlink' ? '2' : type === 'link' ? '1' : '0';
    const data = type === 'file' ? Buffer.from(e.data ?? '') : Buffer.alloc(0);
    parts.push(tarHeader(e.name, data.length, flag, e.linkname ?? ''), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/**
 * A valid zstd frame holding `data` in raw (stored) blocks, per RFC 8878: magic, a frame header with
 * a window descriptor, then blocks of up to 128 KiB each with a 3-byte header (last flag, type 0, size).
 */
export function zstdRaw(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0x00, 0x38])]; // FHD: no FCS, no checksum; window 128 KiB
  const max = 128 * 1024;
  let pos = 0;
  do {
    const n = Math.min(max, data.length - pos);
    const last = pos + n >= data.length ? 1 : 0;
    const header = last | (0 << 1) | (n << 3);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), data.subarray(pos, pos + n));
    pos += n;
  } while (pos < data.length);
  return Buffer.concat(parts);
}

export interface ZipEntrySpec {
  name: string;
  data: Buffer | string;
  /** deflate (default) or store */
  method?: 'deflate' | 'store';
}

/** A zip archive (jar, war...) with deflated or stored members. */
export function zip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.data);
    const method = e.method === 'store' ? 0 : 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(e.name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    central.push(cd, name);
    offset += 30 + name.length + body.length;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...central, end]);
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export type Compression = 'none' | 'gzip' | 'zstd';

export interface LayerSpec {
  files: TarEntrySpec[];
  compression?: Compression;
  createdBy?: string;
}

export function compress(data: Buffer, c: Compression = 'none'): Buffer {
  return c === 'gzip' ? gzipSync(data, { level: 1 }) : c === 'zstd' ? zstdRaw(data) : data;
}

export interface ImageSpec {
  layers: LayerSpec[];
  /** The config's `config` section: Env, Cmd, Entrypoint, Labels. */
  container?: Record<string, unknown>;
  /** Extra history entries without a layer (ENV, LABEL steps). */
  emptyHistory?: string[];
  os?: string;
  architecture?: string;
  variant?: string;
}

export interface BuiltImage {
  config: Buffer;
  configDigest: string;
  layerTars: Buffer[];
  layerBlobs: Buffer[];
  /** sha256 of each compressed blob, as an OCI manifest names it. */
  layerDigests: string[];
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const layerTars = spec.layers.map((l) => tar(l.files));
  const layerBlobs = spec.layers.map((l, i) => compress(layerTars[i]!, l.compression));
  const history = [
    ...(spec.emptyHistory ?? []).map((c) => ({ created_by: c, empty_layer: true })),
    ...spec.layers.map((l, i) => ({ created_by: l.createdBy ?? `/bin/sh -c #(nop) COPY step ${i}` })),
  ];
  const config = Buffer.from(
    JSON.stringify({
      architecture: spec.architecture ?? 'amd64',
      os: spec.os ?? 'linux',
      ...(spec.variant ? { variant: spec.variant } : {}),
      config: spec.container ?? {},
      rootfs: { type: 'layers', diff_ids: layerTars.map((t) => `sha256:${sha256(t)}`) },
      history,
    }),
  );
  return { config, configDigest: sha256(config), layerTars, layerBlobs, layerDigests: layerBlobs.map((b) => `sha256:${sha256(b)}`) };
}

/**
 * A `docker save` tarball (the legacy layout: <id>/layer.tar, <config>.json, manifest.json), with
 * manifest.json written last as docker does. Layers in a docker save are uncompressed tars, but
 * compressed ones are accepted too.
 */
export function dockerSave(images: { spec: ImageSpec; tags: string[] }[], options: { manifestFirst?: boolean } = {}): Buffer {
  const files: TarEntrySpec[] = [];
  const manifest: unknown[] = [];
  const seen = new Set<string>();
  for (const { spec, tags } of images) {
    const img = buildImage(spec);
    const layers: string[] = [];
    img.layerBlobs.forEach((blob, i) => {
      const id = sha256(img.layerTars[i]!);
      const path = `${id}/layer.tar`;
      if (!seen.has(path)) {
        seen.add(path);
        files.push({ name: `${id}/`, type: 'dir' }, { name: path, data: blob }, { name: `${id}/VERSION`, data: '1.0' });
      }
      layers.push(path);
    });
    files.push({ name: `${img.configDigest}.json`, data: img.config });
    manifest.push({ Config: `${img.configDigest}.json`, RepoTags: tags, Layers: layers });
  }
  const m = { name: 'manifest.json', data: JSON.stringify(manifest) };
  return tar(options.manifestFirst ? [m, ...files] : [...files, m]);
}

/** The files of an OCI image layout; several images become a multi-platform index. */
export function ociLayout(images: ImageSpec[], options: { name?: string; multiPlatform?: boolean } = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const put = (b: Buffer): string => {
    const d = sha256(b);
    files.set(`blobs/sha256/${d}`, b);
    return `sha256:${d}`;
  };
  const manifests = images.map((spec) => {
    const img = buildImage(spec);
    const configDigest = put(img.config);
    const layers = img.layerBlobs.map((b, i) => ({
      mediaType: `application/vnd.oci.image.layer.v1.tar${spec.layers[i]!.compression === 'gzip' ? '+gzip' : spec.layers[i]!.compression === 'zstd' ? '+zstd' : ''}`,
      digest: put(b),
      size: b.length,
    }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: img.config.length },
        layers,
      }),
    );
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: put(manifest),
      size: manifest.length,
      platform: { os: spec.os ?? 'linux', architecture: spec.architecture ?? 'amd64', ...(spec.variant ? { variant: spec.variant } : {}) },
    };
  });
  const annotations = options.name ? { 'org.opencontainers.image.ref.name': options.name } : undefined;
  if (options.multiPlatform) {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    const d = put(index);
    files.set(
      'index.json',
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: d, size: index.length, ...(annotations ? { annotations } : {}) }],
        }),
      ),
    );
  } else {
    files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: manifests.map((m) => ({ ...m, ...(annotations ? { annotations } : {}) })) })));
  }
  return files;
}

/** Files (path -> bytes) as one tar. */
export function tarOf(files: Map<string, Buffer>): Buffer {
  return tar([...files].map(([name, data]) => ({ name, data })));
}
