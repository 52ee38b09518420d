import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../core/types.js';
import { writeFileAtomic } from '../report/write.js';
import { gitSync } from '../sources/git/exec.js';
import type { Repo } from '../sources/git/repo.js';

/**
 * An incremental history scan reports only what the new blobs hold. Code scanning closes an alert
 * as fixed when the next analysis no longer reports it, so the nightly SARIF must also carry the
 * findings of earlier runs. They are kept beside the git state (`findings.json`, no secrets: the
 * collector keeps none unless asked) and carried while their commit is still in the repository and
 * no ignore file or baseline has since accepted them. When the git state was reset (new rules or
 * allow lists: every blob scanned again) the new report is complete and nothing is carried.
 */

export const FINDINGS_FILE = 'findings.json';

interface Saved {
  version: 1;
  findings: Finding[];
}

export function loadCarried(stateDir: string): Finding[] {
  const file = join(stateDir, FINDINGS_FILE);
  if (!existsSync(file)) return [];
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Partial<Saved>;
    return doc.version === 1 && Array.isArray(doc.findings) ? doc.findings : [];
  } catch {
    return []; // a damaged file only costs the carried findings; the next full run rebuilds it
  }
}

/** Earlier findings still worth reporting: not found again now, rule still on, not accepted, commit still there. */
export function carryOver(repo: Repo, earlier: Finding[], now: readonly Finding[], rules: ReadonlyMap<string, unknown>, accepted: ReadonlySet<string>): Finding[] {
  const seen = new Set(now.map((f) => f.fingerprint));
  const kept = earlier.filter((f) => !seen.has(f.fingerprint) && rules.has(f.ruleId) && !accepted.has(f.fingerprint) && Array.isArray(f.locations) && f.locations.length > 0);
  const commits = new Set<string>();
  for (const f of kept) for (const l of f.locations) if (typeof l.properties?.['commit'] === 'string') commits.add(l.properties['commit']);
  const present = existingCommits(repo, commits);
  return kept.filter((f) => {
    const c = f.locations[0]!.properties?.['commit'];
    return typeof c !== 'string' || present.has(c);
  });
}

function existingCommits(repo: Repo, commits: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  if (commits.size === 0) return out;
  const list = [...commits];
  const r = gitSync(repo.target, ['cat-file', '--batch-check=%(objectname) %(objecttype)'], list.join('\n') + '\n');
  if (r.code !== 0) return out;
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const [oid, type] = line.split(' ');
    if (oid !== undefined && type === 'commit') out.add(oid);
  }
  return out;
}

export function saveCarried(stateDir: string, findings: readonly Finding[]): void {
  const clean = findings.map(({ secret: _secret, ...rest }) => rest);
  const doc: Saved = { version: 1, findings: clean };
  mkdirSync(stateDir, { recursive: true });
  writeFileAtomic(join(stateDir, FINDINGS_FILE), JSON.stringify(doc) + '\n');
}
