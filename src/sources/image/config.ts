import type { PropertyValue } from '../../core/types.js';
import { scanBuffer } from '../../engine/scan.js';
import type { ScanContext } from '../../scan/context.js';

/** Origin path of findings in an image's config. */
export const CONFIG_PATH = 'image-config';

interface Entry {
  field: string;
  text: string;
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  return JSON.stringify(v);
}

/**
 * The parts of an image config where credentials leak, one synthetic line per entry:
 * `ENV` values, `CMD`/`ENTRYPOINT`, labels, and every history step (RUN with --build-arg...).
 */
export function configEntries(config: Record<string, unknown>): Entry[] {
  const c = (typeof config['config'] === 'object' && config['config'] !== null ? config['config'] : {}) as Record<string, unknown>;
  const out: Entry[] = [];
  if (Array.isArray(c['Env'])) c['Env'].forEach((e, i) => out.push({ field: `Env[${i}]`, text: `ENV ${asText(e)}` }));
  if (c['Entrypoint'] != null) out.push({ field: 'Entrypoint', text: `ENTRYPOINT ${asText(c['Entrypoint'])}` });
  if (c['Cmd'] != null) out.push({ field: 'Cmd', text: `CMD ${asText(c['Cmd'])}` });
  if (typeof c['Labels'] === 'object' && c['Labels'] !== null) {
    for (const [k, v] of Object.entries(c['Labels'] as Record<string, unknown>)) out.push({ field: `Labels.${k}`, text: `LABEL ${k}=${asText(v)}` });
  }
  if (Array.isArray(config['history'])) {
    config['history'].forEach((h, i) => {
      if (typeof h === 'object' && h !== null && typeof (h as Record<string, unknown>)['created_by'] === 'string') {
        out.push({ field: `history[${i}].created_by`, text: (h as Record<string, string>)['created_by']! });
      }
    });
  }
  return out;
}

/**
 * Scans the config on the main thread (it is small) and reports each hit at path `image-config`,
 * line = the entry's synthetic line, with the entry named in `field`.
 */
export function scanConfig(ctx: ScanContext, config: Record<string, unknown>, properties: Record<string, PropertyValue>): void {
  const entries = configEntries(config);
  if (entries.length === 0) return;
  const texts = entries.map((e) => e.text.replace(/\r?\n/g, ' '));
  const doc = Buffer.from(texts.join('\n') + '\n', 'utf8');
  const hits = scanBuffer(ctx.compiled, doc);
  ctx.stats.filesScanned++;
  ctx.stats.bytesScanned += doc.length;
  for (const hit of hits) {
    const entry = entries[hit.line - 1];
    ctx.collector.add({ path: CONFIG_PATH, properties: { ...properties, field: entry?.field ?? 'config' } }, [hit]);
  }
}
