import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RuleDefinition } from '../../core/types.js';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../report/write.js';

export const DEFAULT_STATE_PATH = '.leakhound/image-state';

/**
 * Layer digests already scanned by earlier runs with the same rules (--incremental). Only digests
 * are stored: no paths, no findings, nothing secret. A change to the rules starts afresh.
 */
export class LayerState {
  private readonly layers = new Set<string>();
  private dirty = false;

  constructor(
    private readonly path: string,
    private readonly rulesHash: string,
  ) {}

  static rulesHash(rules: readonly RuleDefinition[]): string {
    const h = createHash('sha256');
    for (const r of rules) h.update(`${r.id}\0${r.pattern}\0${r.allow.join('\0')}\0${r.entropy ?? ''}\0${r.validate ?? ''}\n`);
    return h.digest('hex');
  }

  load(): void {
    if (!existsSync(this.path)) return;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (e) {
      throw new UserError(`${this.path}: not a leakhound image state file (${(e as Error).message}); delete it to start afresh`);
    }
    const d = doc as { version?: unknown; rules?: unknown; layers?: unknown };
    if (d.version !== 1 || !Array.isArray(d.layers)) throw new UserError(`${this.path}: not a leakhound image state file; delete it to start afresh`);
    if (d.rules !== this.rulesHash) return; // rules changed: every layer is scanned again
    for (const l of d.layers) if (typeof l === 'string') this.layers.add(l);
  }

  has(digest: string): boolean {
    return this.layers.has(digest);
  }

  add(digest: string): void {
    if (!this.layers.has(digest)) {
      this.layers.add(digest);
      this.dirty = true;
    }
  }

  save(): void {
    if (!this.dirty) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (e) {
      throw new UserError(`cannot create ${dirname(this.path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    writeFileAtomic(this.path, JSON.stringify({ version: 1, rules: this.rulesHash, layers: [...this.layers].sort() }, null, 1) + '\n');
  }
}
