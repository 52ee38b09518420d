import type { Readable } from 'node:stream';
import type { Finding, PropertyValue } from '../../core/types.js';
import { UserError } from '../../core/errors.js';
import { scanItems, type ScanContext, type SourceItem } from '../../scan/context.js';
import { DEFAULT_NESTED_LIMITS, type NestedLimits } from '../archive/nested.js';
import { BombError, decompressed, peek } from '../archive/stream.js';
import { isTarHeader } from '../archive/magic.js';
import { redactSecretsIn } from '../logs/redact-text.js';
import { scanConfig } from './config.js';
import { openImageInput } from './input.js';
import { layerFiles } from './layer.js';
import { resolveImages, type ImageRef, type LayerRef } from './model.js';
import { LayerState } from './state.js';
import { scanStreamInline } from './stream-scan.js';
import { deletedInLayer, emptyWhiteouts, type Whiteouts } from './whiteouts.js';

export interface ImageScanOptions {
  /** os/arch[/variant] filters; empty: every platform. */
  platforms: string[];
  /** How deep archives inside layers are opened (0: not at all). */
  archiveDepth: number;
  /** Skip layers recorded in this state file, and record the ones scanned. */
  statePath?: string;
}

/** Files larger than this are scanned from the stream on the main thread instead of being held whole. */
export const LARGE_FILE = 64 * 2 ** 20;
/** Bytes handed to workers and not yet scanned: the producer waits above this. */
const IN_FLIGHT_BYTES = 128 * 2 ** 20;
/** A layer expanding past these is a decompression bomb: warned about, its remainder skipped. */
const LAYER_LIMITS = { maxBytes: 64 * 2 ** 30, maxRatio: 1000, ratioFloor: 1024 * 2 ** 20 };
/** Longest history step kept in a location's properties. */
const CREATED_BY_MAX = 200;

/** Waits while too many bytes are in the workers' queues. */
class ByteBudget {
  private used = 0;
  private waiters: (() => void)[] = [];
  constructor(private readonly cap: number) {}
  async acquire(n: number): Promise<void> {
    while (this.used > 0 && this.used + n > this.cap) await new Promise<void>((r) => this.waiters.push(r));
    this.used += n;
  }
  release(n: number): void {
    this.used -= n;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

const imageKey = (name: string, platform: string | undefined): string => `${name}\0${platform ?? ''}`;

/**
 * Scans images: the config of each, then every layer blob once (by digest), streaming. Whiteouts
 * are recorded per layer while reading and applied after the scan (`finalize`), since whether a
 * file is deleted depends on layers read later.
 */
export class ImageScan {
  private readonly scannedDigests = new Set<string>();
  private readonly whiteoutsByDigest = new Map<string, Whiteouts>();
  private readonly images = new Map<string, ImageRef>();
  private readonly budget = new ByteBudget(IN_FLIGHT_BYTES);
  private readonly nested: NestedLimits;
  private state: LayerState | undefined;
  /** Inputs from which nothing at all could be read. */
  private unreadable: string[] = [];
  skippedLayers = 0;

  constructor(private readonly options: ImageScanOptions) {
    this.nested = { ...DEFAULT_NESTED_LIMITS, maxDepth: options.archiveDepth };
  }

  async produce(ctx: ScanContext, paths: string[]): Promise<void> {
    if (this.options.statePath !== undefined) {
      this.state = new LayerState(this.options.statePath, LayerState.rulesHash(ctx.rules));
      this.state.load();
    }
    for (const path of paths) await this.scanInput(ctx, path);
    if (this.unreadable.length === paths.length) {
      throw new UserError(`nothing could be read from ${this.unreadable.join(', ')}`);
    }
    this.state?.save();
  }

  private async scanInput(ctx: ScanContext, path: string): Promise<void> {
    const input = await openImageInput(path, ctx.warn);
    const images = resolveImages(input, this.options.platforms, ctx.warn);
    let readAnything = false;
    const users = new Map<string, { image: ImageRef; layer: LayerRef }[]>();
    const wanted: string[] = [];
    for (const image of images) {
      this.images.set(imageKey(image.name, image.platform), image);
      if (image.config) {
        scanConfig(ctx, image.config, this.baseProps(image));
        readAnything = true;
      }
      for (const layer of image.layers) {
        if (!users.has(layer.blobPath)) {
          users.set(layer.blobPath, []);
          wanted.push(layer.blobPath);
        }
        users.get(layer.blobPath)!.push({ image, layer });
      }
    }
    // skip blobs whose every use is a digest scanned already (this run, or an earlier one with --incremental)
    const toRead = wanted.filter((p) => users.get(p)!.some(({ layer }) => !this.scannedDigests.has(layer.digest) && !this.state?.has(layer.digest)));
    this.skippedLayers += wanted.length - toRead.length;
    const missing = await input.streamBlobs(toRead, async (blobPath, stream) => {
      const use = users.get(blobPath)!.find(({ layer }) => !this.scannedDigests.has(layer.digest))!;
      if (use === undefined) {
        stream.resume();
        return;
      }
      const ok = await this.scanLayer(ctx, use.image, use.layer, stream);
      readAnything = true;
      for (const u of users.get(blobPath)!) {
        this.scannedDigests.add(u.layer.digest);
        if (ok) this.state?.add(u.layer.digest);
      }
    });
    for (const p of missing) {
      const u = users.get(p)![0]!;
      ctx.warn(`${path}: layer ${u.layer.index} of ${u.image.name} (${u.layer.digest}): blob ${p} is missing, skipped`);
    }
    if (!readAnything && (images.length === 0 || toRead.length > 0)) this.unreadable.push(path);
  }

  private baseProps(image: ImageRef): Record<string, PropertyValue> {
    const p: Record<string, PropertyValue> = { image: image.name };
    if (image.platform !== undefined) p['platform'] = image.platform;
    return p;
  }

  /** Reads one layer blob; returns true when it was read to the end without damage. */
  private async scanLayer(ctx: ScanContext, image: ImageRef, layer: LayerRef, blob: Readable): Promise<boolean> {
    const label = `${image.name}: layer ${layer.index} (${layer.digest})`;
    const whiteouts = emptyWhiteouts();
    this.whiteoutsByDigest.set(layer.digest, whiteouts);
    const props: Record<string, PropertyValue> = { ...this.baseProps(image), layer: layer.digest, layerIndex: layer.index };
    if (layer.createdBy !== undefined) {
      const step = redactSecretsIn(ctx.compiled, layer.createdBy);
      props['createdBy'] = step.length > CREATED_BY_MAX ? `${step.slice(0, CREATED_BY_MAX - 1)}…` : step;
    }
    const sizes = new WeakMap<SourceItem, number>();
    const budget = this.budget;
    const nested = this.nested;
    const warn = (m: string): void => ctx.warn(m);
    let damage: unknown;
    // Errors are caught inside the generator so scanItems still waits for the files already handed out.
    async function* items(): AsyncGenerator<SourceItem> {
      try {
        yield* layerItems();
      } catch (e) {
        damage = e;
      }
    }
    async function* layerItems(): AsyncGenerator<SourceItem> {
      const { stream } = await decompressed(blob, label, LAYER_LIMITS);
      const { head, stream: tarStream } = await peek(stream);
      if (head.length > 0 && !isTarHeader(head)) throw new Error('not a tar archive after decompression');
      const files = layerFiles(tarStream, label, whiteouts, {
        largeFile: LARGE_FILE,
        nested,
        warn,
        onLarge: (path, s) => scanStreamInline(ctx, s, { path, properties: props }),
      });
      for await (const f of files) {
        await budget.acquire(f.data.length);
        const item: SourceItem = { task: { kind: 'bytes', data: f.data }, origin: { path: f.path, properties: props } };
        sizes.set(item, f.data.length);
        yield item;
      }
    }
    await scanItems(ctx, items(), (item) => budget.release(sizes.get(item) ?? 0));
    if (damage === undefined) return true;
    {
      const e = damage;
      if (e instanceof UserError) throw e;
      const msg = (e as Error).message;
      ctx.warn(e instanceof BombError ? msg : `${label}: ${describeDamage(msg)}; files before the damage were scanned`);
      return false;
    }
  }

  /** Marks locations whose file a later layer deletes: the secret still ships in the image. */
  finalize(findings: Finding[]): Finding[] {
    for (const f of findings) {
      for (const loc of f.locations) {
        const p = loc.properties;
        if (!p || typeof p['layerIndex'] !== 'number' || typeof p['image'] !== 'string') continue;
        const image = this.images.get(imageKey(p['image'], typeof p['platform'] === 'string' ? p['platform'] : undefined));
        if (!image) continue;
        const layers = image.layers.map((l) => this.whiteoutsByDigest.get(l.digest));
        const del = deletedInLayer(loc.path, p['layerIndex'], layers);
        if (del !== undefined) loc.properties = { ...p, deletedInLayer: del };
      }
    }
    return findings;
  }
}

function describeDamage(msg: string): string {
  if (/unexpected end|premature close|truncated/i.test(msg)) return `truncated (${msg})`;
  if (/header check|invalid|incorrect|corrupt|unknown compression|zstd/i.test(msg)) return `corrupt data (${msg})`;
  return msg;
}
