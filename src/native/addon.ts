import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../version.js';

/** A Hyperscan database with its scratch space; one per thread. */
export interface NativeDatabase {
  /**
   * Ids of the patterns found in `bytes`, ascending; null when `bytes` is not UTF-8. With `ends`,
   * ends[k] is set to where the first match of ids[k] ends.
   */
  match(bytes: Uint8Array, ends?: Uint32Array): number[] | null;
  /**
   * Reads, sniffs and matches files in one native call (see NativeFileBatch). Files are read into
   * `slab` while it has room; a candidate's bytes then stay there until the next call.
   */
  scanFiles(paths: string[], wholeLimit: number, sniffBytes: number, slab?: Uint8Array): NativeFileBatch;
}

/** Outcome of one file in a native batch; numbered as in native/hyperscan_set.c. */
export const NativeFileStatus = {
  /** Read whole; no pattern occurs: nothing to do. */
  Clean: 0,
  Binary: 1,
  /** details holds [index, error code]. */
  Unreadable: 2,
  NotAFile: 3,
  /**
   * details holds [index, bytes, ids, ends] or [index, bytes, null] (not UTF-8: match with RE2);
   * bytes is the file's offset in the slab (its length: `bytes[index]`) or a Buffer of its own.
   */
  Candidates: 4,
  /** Over the whole-file limit (or a path too long for the native buffer): read in JavaScript. */
  Large: 5,
} as const;

export interface NativeFileBatch {
  status: Uint8Array;
  bytes: Float64Array;
  details: ([number, string] | [number, Buffer | number, null] | [number, Buffer | number, number[], Uint32Array])[];
}

export interface NativeAddon {
  version(): string;
  /** cleanBatch of src/sources/logs/clean.ts, natively (the same bytes out). */
  cleanLogBatch(raw: Uint8Array, startsMidLine: boolean): Buffer;
  /** Serialized database; throws with `expression` (position in `patterns`) when one does not compile. */
  compile(patterns: string[], flags: number[], ids: number[]): Buffer;
  Database: new (serialized: Uint8Array, idLimit: number) => NativeDatabase;
  flags: { CASELESS: number; DOTALL: number; MULTILINE: number; SINGLEMATCH: number; UTF8: number; PREFILTER: number; ALLOWEMPTY: number };
}

/** Where scripts/install.sh builds the addon (when Hyperscan's headers are installed). */
export const NATIVE_ADDON_PATH = join(packageRoot, 'native', 'build', 'Release', 'leakhound_native.node');

let loaded: NativeAddon | null | undefined;

/**
 * The native addon (native/: Hyperscan's multi-pattern pass, file batches, the build-log cleaner), or
 * undefined when it was not built (no Hyperscan on the machine) or is turned off with
 * LEAKHOUND_HYPERSCAN=0. Everything it does has a JavaScript path, so its absence only costs speed.
 */
export function nativeAddon(): NativeAddon | undefined {
  if (loaded === undefined) {
    loaded = null;
    if (process.env['LEAKHOUND_HYPERSCAN'] !== '0') {
      try {
        loaded = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
      } catch {
        /* not built, or libhs missing at run time: RE2 only */
      }
    }
  }
  return loaded ?? undefined;
}
