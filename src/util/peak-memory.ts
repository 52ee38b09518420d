import { readFileSync } from 'node:fs';

/**
 * Peak resident memory of this process in KB, all threads. Linux's VmHWM belongs to this process
 * image alone; getrusage's maxRSS can carry a parent's higher peak into a spawned child, so it is
 * only the fallback where /proc is missing.
 */
export function peakMemoryKB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS;
}

/** The LEAKHOUND_STATS=1 line (tests and the bench parse it). */
export function statsLine(): string {
  return `leakhound: stats: maxRSS=${peakMemoryKB()}KB\n`;
}
