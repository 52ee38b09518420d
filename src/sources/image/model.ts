import { createHash } from 'node:crypto';
import { UserError } from '../../core/errors.js';
import { blobPathOf, digestPath, type ImageInput, type Warn } from './input.js';

/** One layer of one image, in stacking order. */
export interface LayerRef {
  index: number;
  /** Path of the blob inside the input. */
  blobPath: string;
  /** The layer's digest (manifest descriptor, else the config's diff_id, else derived from the path). */
  digest: string;
  /** The history step that created this layer (RUN, COPY...), when the config records it. */
  createdBy?: string;
}

export interface ImageConfig {
  Env?: unknown;
  Cmd?: unknown;
  Entrypoint?: unknown;
  Labels?: unknown;
  history?: unknown;
}

/** One image (one platform of an index) to scan. */
export interface ImageRef {
  /** Repo tag, ref name, or digest: what reports call the image. */
  name: string;
  platform?: string;
  config?: Record<string, unknown>;
  layers: LayerRef[];
}

type Json = Record<string, unknown>;

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

function parseJson(input: ImageInput, path: string, what: string, warn: Warn): Json | undefined {
  const data = input.readMetadata(path);
  if (data === undefined) {
    warn(`${input.label}: ${what} ${path} is missing${input.has(path) ? ' or too large' : ''}`);
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(data.toString('utf8'));
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v as Json;
  } catch (e) {
    warn(`${input.label}: ${what} ${path} is not valid JSON (${(e as Error).message})`);
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** os/arch[/variant] of a descriptor's platform or a config. */
function platformOf(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const o = p as Json;
  const os = str(o['os']);
  const arch = str(o['architecture']);
  if (!os || !arch) return undefined;
  const variant = str(o['variant']);
  return variant ? `${os}/${arch}/${variant}` : `${os}/${arch}`;
}

/** True when the wanted platform (os/arch or os/arch/variant) matches. */
export function platformMatches(wanted: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const w = wanted.split('/');
  const a = actual.split('/');
  return w.every((part, i) => a[i] === part);
}

/** Maps non-empty history entries to layers, in order. */
function historySteps(config: Json | undefined): (string | undefined)[] {
  const h = config?.['history'];
  if (!Array.isArray(h)) return [];
  return h.filter((e) => typeof e === 'object' && e !== null && (e as Json)['empty_layer'] !== true).map((e) => str((e as Json)['created_by']));
}

function diffIds(config: Json | undefined): string[] {
  const r = config?.['rootfs'];
  if (typeof r !== 'object' || r === null) return [];
  const ids = (r as Json)['diff_ids'];
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

function layersFrom(blobPaths: string[], digests: (string | undefined)[], config: Json | undefined): LayerRef[] {
  const steps = historySteps(config);
  const ids = diffIds(config);
  return blobPaths.map((blobPath, index) => {
    const fromPath = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(blobPath);
    const digest =
      digests[index] ?? ids[index] ?? (fromPath ? `${fromPath[1]}:${fromPath[2]}` : `path:${createHash('sha256').update(blobPath).digest('hex').slice(0, 16)}`);
    const layer: LayerRef = { index, blobPath, digest };
    const step = steps[index];
    if (step !== undefined) layer.createdBy = step;
    return layer;
  });
}

/** Images of a `docker save` manifest.json. */
function dockerImages(input: ImageInput, warn: Warn): ImageRef[] | undefined {
  const data = input.readMetadata('manifest.json');
  if (data === undefined) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(data.toString('utf8'));
  } catch (e) {
    warn(`${input.label}: manifest.json is not valid JSON (${(e as Error).message})`);
    return undefined;
  }
  if (!Array.isArray(list)) {
    warn(`${input.label}: manifest.json is not a list of images`);
    return undefined;
  }
  const out: ImageRef[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const m = item as Json;
    const configName = str(m['Config']);
    const configPath = configName === undefined ? undefined : blobPathOf(configName);
    if (configName !== undefined && configPath === undefined) warn(`${input.label}: config path '${configName}' leaves the image, skipped`);
    const config = configPath === undefined ? undefined : parseJson(input, configPath, 'config', warn);
    const tags = Array.isArray(m['RepoTags']) ? (m['RepoTags'] as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    const configDigest = configPath !== undefined ? (/^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(configPath) ?? /^([a-f0-9]{64})\.json$/.exec(configPath)) : null;
    const name = tags[0] ?? (configDigest ? `sha256:${configDigest[configDigest.length - 1]}` : (configName ?? 'image'));
    const layerNames = Array.isArray(m['Layers']) ? (m['Layers'] as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    const paths: string[] = [];
    for (const l of layerNames) {
      const p = blobPathOf(l);
      if (p === undefined) warn(`${input.label}: layer path '${l}' leaves the image, skipped`);
      paths.push(p ?? '');
    }
    const image: ImageRef = { name, layers: layersFrom(paths, [], config).filter((l) => l.blobPath !== '') };
    if (config) {
      image.config = config;
      const p = platformOf(config);
      if (p) image.platform = p;
    }
    out.push(image);
  }
  return out;
}

/** Images of an OCI layout's index.json, following nested indexes (multi-platform images). */
function ociImages(input: ImageInput, warn: Warn): ImageRef[] | undefined {
  const index = input.readMetadata('index.json') === undefined ? undefined : parseJson(input, 'index.json', 'index', warn);
  if (!index) return undefined;
  const out: ImageRef[] = [];
  const visit = (idx: Json, inheritedName: string | undefined, depth: number): void => {
    const manifests = idx['manifests'];
    if (!Array.isArray(manifests)) return;
    for (const d of manifests) {
      if (typeof d !== 'object' || d === null) continue;
      const desc = d as Json;
      const annotations = (typeof desc['annotations'] === 'object' && desc['annotations'] !== null ? desc['annotations'] : {}) as Json;
      if (str(annotations['vnd.docker.reference.type']) === 'attestation-manifest') continue; // provenance, not a filesystem
      const digest = str(desc['digest']);
      const path = digest === undefined ? undefined : digestPath(digest);
      if (path === undefined) {
        warn(`${input.label}: a manifest descriptor has no usable digest, skipped`);
        continue;
      }
      const name = str(annotations['io.containerd.image.name']) ?? str(annotations['org.opencontainers.image.ref.name']) ?? inheritedName;
      const doc = parseJson(input, path, 'manifest', warn);
      if (!doc) continue;
      const mediaType = str(desc['mediaType']) ?? str(doc['mediaType']);
      if ((mediaType !== undefined && INDEX_TYPES.has(mediaType)) || Array.isArray(doc['manifests'])) {
        if (depth < 4) visit(doc, name ?? digest, depth + 1);
        continue;
      }
      const configDesc = doc['config'] as Json | undefined;
      const configDigest = configDesc ? str(configDesc['digest']) : undefined;
      const configPath = configDigest ? digestPath(configDigest) : undefined;
      const config = configPath ? parseJson(input, configPath, 'config', warn) : undefined;
      const layerDescs = Array.isArray(doc['layers']) ? (doc['layers'] as unknown[]) : [];
      const paths: string[] = [];
      const digests: (string | undefined)[] = [];
      for (const l of layerDescs) {
        const ld = typeof l === 'object' && l !== null ? str((l as Json)['digest']) : undefined;
        const lp = ld ? digestPath(ld) : undefined;
        if (!lp) {
          warn(`${input.label}: a layer descriptor has no usable digest, skipped`);
          continue;
        }
        paths.push(lp);
        digests.push(ld);
      }
      const image: ImageRef = { name: name ?? digest ?? 'image', layers: layersFrom(paths, digests, config) };
      const platform = platformOf(desc['platform']) ?? platformOf(config);
      if (platform) image.platform = platform;
      if (config) image.config = config;
      out.push(image);
    }
  };
  visit(index, undefined, 0);
  return out;
}

/**
 * The images in an input: docker save's manifest.json when present (it carries repo tags),
 * else the OCI index. `platforms` filters multi-platform indexes; empty means all.
 */
export function resolveImages(input: ImageInput, platforms: string[], warn: Warn): ImageRef[] {
  const images = dockerImages(input, warn) ?? ociImages(input, warn);
  if (images === undefined) throw new UserError(`${input.label}: not an image: no readable manifest.json or index.json`);
  if (platforms.length === 0) return images;
  const picked = images.filter((i) => platforms.some((p) => platformMatches(p, i.platform)));
  if (picked.length === 0) {
    const have = [...new Set(images.map((i) => i.platform ?? 'unknown'))].join(', ');
    throw new UserError(`${input.label}: no image for platform ${platforms.join(', ')} (available: ${have || 'none'})`);
  }
  return picked;
}
