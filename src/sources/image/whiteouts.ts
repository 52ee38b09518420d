/** Files a layer deletes from the layers below it (OCI/AUFS whiteouts). */
export interface Whiteouts {
  /** `dir/.wh.name` deletes `dir/name` (and anything under it). */
  deleted: Set<string>;
  /** `dir/.wh..wh..opq` hides everything lower layers put in `dir`. */
  opaque: Set<string>;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export function emptyWhiteouts(): Whiteouts {
  return { deleted: new Set(), opaque: new Set() };
}

/** Records a whiteout entry; returns false when the name is not one. */
export function recordWhiteout(w: Whiteouts, path: string): boolean {
  const slash = path.lastIndexOf('/');
  const dir = slash === -1 ? '' : path.slice(0, slash);
  const base = path.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return false;
  if (base === OPAQUE_MARKER) w.opaque.add(dir);
  else w.deleted.add(dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`);
  return true;
}

/**
 * The first layer above `layerIndex` that deletes `path` (a file path in the image; for a file inside
 * an archive, the archive's path), or undefined when the file is still visible in the final image.
 */
export function deletedInLayer(path: string, layerIndex: number, layers: readonly (Whiteouts | undefined)[]): number | undefined {
  const file = path.split('!/', 1)[0]!;
  const parts = file.split('/');
  const prefixes: string[] = [];
  for (let i = 1; i <= parts.length; i++) prefixes.push(parts.slice(0, i).join('/'));
  for (let j = layerIndex + 1; j < layers.length; j++) {
    const w = layers[j];
    if (!w) continue;
    if (prefixes.some((p) => w.deleted.has(p))) return j;
    // an opaque directory hides lower content under it (the root itself cannot be opaque)
    if (prefixes.slice(0, -1).some((p) => w.opaque.has(p))) return j;
  }
  return undefined;
}
