import type { Hit, RuleDefinition } from '../core/types.js';

/**
 * Credentials that come in parts (AWS key id + secret key, Twilio SID + token): when a hit of every
 * part stands within the rule's window of lines, one more hit is made for the pair. The parts are
 * still reported on their own, each with its own confidence.
 */
export function assembleComposites(hits: readonly Hit[], composites: readonly RuleDefinition[]): Hit[] {
  if (composites.length === 0 || hits.length < 2) return [];
  const out: Hit[] = [];
  for (const rule of composites) {
    const { parts, window } = rule.composite!;
    const byPart = parts.map((id) => hits.filter((h) => h.ruleId === id));
    if (byPart.some((p) => p.length === 0)) continue;
    const seen = new Set<string>();
    for (const anchor of byPart[0]!) {
      const chosen: Hit[] = [anchor];
      for (const candidates of byPart.slice(1)) {
        let bestHit: Hit | undefined;
        for (const c of candidates) {
          const d = Math.abs(c.line - anchor.line);
          if (d <= window && (bestHit === undefined || d < Math.abs(bestHit.line - anchor.line))) bestHit = c;
        }
        if (bestHit === undefined) break;
        chosen.push(bestHit);
      }
      if (chosen.length !== parts.length) continue;
      const secret = chosen.map((h) => h.secret).join('\n');
      if (seen.has(secret)) continue;
      seen.add(secret);
      const first = chosen.reduce((a, b) => (b.offset < a.offset ? b : a));
      const last = chosen.reduce((a, b) => (b.endLine > a.endLine || (b.endLine === a.endLine && b.endColumn > a.endColumn) ? b : a));
      const hit: Hit = {
        ruleId: rule.id,
        secret,
        line: first.line,
        column: first.column,
        endLine: last.endLine,
        endColumn: last.endColumn,
        offset: first.offset,
      };
      const identity = anchor.identity ?? chosen.find((h) => h.identity !== undefined)?.identity;
      if (identity !== undefined) hit.identity = identity;
      out.push(hit);
    }
  }
  return out;
}
