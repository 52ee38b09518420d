import type { ScanStats } from '../core/types.js';
import { formatBytes } from '../report/text.js';

/** A one-line progress display on a terminal; does nothing when disabled (CI, pipes, --quiet). */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly enabled: boolean,
    private readonly stats: ScanStats,
    private readonly findings: () => number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  private every = 250;
  private lastDraw = 0;

  start(): void {
    if (!this.enabled) return;
    // the interval is tunable so the end-to-end test need not build a slow scan
    const every = Number(process.env['LEAKHOUND_PROGRESS_INTERVAL_MS'] ?? 250);
    this.every = Number.isFinite(every) && every > 0 ? every : 250;
    this.timer = setInterval(() => this.draw(), this.every);
    this.timer.unref();
  }

  /** Called as results come in: draws when due even while the main thread is busy scanning itself. */
  tick(): void {
    if (this.timer !== undefined && Date.now() - this.lastDraw >= this.every) this.draw();
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = formatBytes(this.stats.bytesScanned / secs);
    const line = `scanning: ${this.stats.filesScanned.toLocaleString('en-US')} files, ${formatBytes(this.stats.bytesScanned)}, ${this.findings()} findings, ${rate}/s`;
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.drawn) this.stream.write('\r\x1b[2K');
  }
}

export function progressWanted(quiet: boolean): boolean {
  return !quiet && process.stderr.isTTY === true && !process.env['CI'];
}
