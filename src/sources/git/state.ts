import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../../core/errors.js';

/**
 * `--incremental`: which blobs earlier runs scanned, so a nightly run scans only new ones.
 * Stored compactly: a header and the sorted binary object ids (20 bytes each for SHA-1), looked up by
 * binary search; 1 million blobs take 20 MB on disk and in memory. The header carries a digest of the
 * rules and allow lists: when they change, every blob is scanned again. Holds no secret.
 */
const MAGIC = Buffer.from('LHGITST1');
const HEADER = MAGIC.length + 4 + 32 + 4;

/**
 * The rules digest a state file was written for (hex), read from its header alone; undefined when
 * the file is missing or not a state file. The Action carries findings across runs by it.
 */
export function stateFileDigest(file: string): string | undefined {
  const head = Buffer.alloc(MAGIC.length + 4 + 32);
  let n = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (n < head.length || !head.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  return head.subarray(MAGIC.length + 4).toString('hex');
}

export class ScannedSet {
  private constructor(
    private readonly ids: Buffer,
    readonly oidBytes: number,
  ) {}

  static empty(oidBytes: number): ScannedSet {
    return new ScannedSet(Buffer.alloc(0), oidBytes);
  }

  get size(): number {
    return this.ids.length / this.oidBytes;
  }

  /**
   * Reads a state file. A missing file is an empty set; a file written for other rules is an empty set
   * (reason given); a file that is not a state file is an error, so we never overwrite something else.
   */
  static load(file: string, oidBytes: number, digest: Buffer): { set: ScannedSet; note?: string } {
    if (!existsSync(file)) return { set: ScannedSet.empty(oidBytes) };
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (e) {
      throw new UserError(`cannot read state file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const count = buf.length >= HEADER ? buf.readUInt32LE(HEADER - 4) : -1;
    if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC) || buf.length !== HEADER + count * buf[MAGIC.length]!) {
      throw new UserError(`${file} is not a leakhound git state file (delete it or name another with --state-file)`);
    }
    if (buf[MAGIC.length] !== oidBytes) return { set: ScannedSet.empty(oidBytes), note: 'state file is for another object format; scanning every blob' };
    if (!buf.subarray(MAGIC.length + 4, MAGIC.length + 36).equals(digest)) {
      return { set: ScannedSet.empty(oidBytes), note: 'rules or allow lists changed since the state file was written; scanning every blob' };
    }
    return { set: new ScannedSet(buf.subarray(HEADER), oidBytes) };
  }

  has(hexOid: string): boolean {
    const w = this.oidBytes;
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length / w - 1;
    if (hi < 0) return false;
    const key = Buffer.from(hexOid, 'hex');
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = ids.compare(key, 0, w, mid * w, mid * w + w);
      if (c === 0) return true;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** This set plus `added` (hex ids), merged in sorted order, written atomically. */
  save(file: string, digest: Buffer, added: readonly string[]): number {
    const w = this.oidBytes;
    const fresh = added.map((h) => Buffer.from(h, 'hex')).sort(Buffer.compare);
    const oldCount = this.ids.length / w;
    const out = Buffer.allocUnsafe(HEADER + (oldCount + fresh.length) * w);
    MAGIC.copy(out, 0);
    out.writeUInt32LE(w, MAGIC.length); // byte 8: oid width; 9..11 zero
    digest.copy(out, MAGIC.length + 4);
    let i = 0;
    let j = 0;
    let pos = HEADER;
    let last: Buffer | undefined;
    const put = (b: Buffer): void => {
      if (last !== undefined && last.equals(b)) return;
      b.copy(out, pos);
      last = out.subarray(pos, pos + w);
      pos += w;
    };
    while (i < oldCount || j < fresh.length) {
      const a = i < oldCount ? this.ids.subarray(i * w, i * w + w) : undefined;
      const b = fresh[j];
      if (b === undefined || (a !== undefined && a.compare(b) <= 0)) {
        put(a!);
        i++;
      } else {
        put(b);
        j++;
      }
    }
    const count = (pos - HEADER) / w;
    out.writeUInt32LE(count, HEADER - 4);
    writeStateFile(file, out.subarray(0, pos));
    return count;
  }
}

function writeStateFile(file: string, data: Buffer): void {
  const dir = dirname(file);
  try {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      // our own directory: keep it out of `git status` and out of commits
      if (basename(dir) === '.leakhound') writeFileSync(join(dir, '.gitignore'), '*\n');
    }
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    throw new UserError(`cannot write state file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** What the state depends on: a blob scanned under other rules or allow lists must be scanned again. */
export function stateDigest(parts: unknown): Buffer {
  return createHash('sha256').update(JSON.stringify(parts)).digest();
}
