import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { RuleDefinition } from '../core/types.js';
import type { CompiledRuleSet } from '../engine/compile.js';
import type { StoredDatabase } from '../engine/multipattern.js';
import { runTask, unpackBatch, type ScanResult, type ScanTask } from './task.js';
import type { ScanWorkerData, WorkerRequest, WorkerResponse } from './scan-worker.js';
import { WORKER_STATE_BYTES, WORKER_STATE_FINISHED, WORKER_STATE_READY } from './state.js';

/** Runs scan tasks somewhere: in worker threads, or inline for tiny inputs where start-up dominates. */
export interface Scanner {
  scan(task: ScanTask): Promise<ScanResult>;
  /** Tasks submitted but not finished; sources wait when it is high (backpressure). */
  readonly inFlight: number;
  readonly capacity: number;
  /** True when the caller should yield to the event loop (results of other threads are waiting). */
  needsEventLoop?(): boolean;
  close(): Promise<void>;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

interface Pending {
  resolve(r: ScanResult): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  /** Tasks sent to this worker. */
  sent: number;
  /** Shared with the worker (state.ts): ready, tasks finished. */
  state: Int32Array;
}

/** Tasks a worker has been sent and not finished, as of now (its results may not have arrived yet). */
function queued(slot: Slot): number {
  return slot.sent - Atomics.load(slot.state, WORKER_STATE_FINISHED);
}

/**
 * Inputs ready to move to a worker without copying them there: a buffer that is one input's alone
 * is transferred; views into a larger buffer (a reader's chunk) are copied, all of a batch's into
 * one new buffer, which is transferred: one allocation per batch instead of one per input (an image
 * layer's 9,000 members).
 */
export function movable(data: Uint8Array[], transfer: ArrayBuffer[]): Uint8Array[] {
  const whole = (d: Uint8Array): boolean => d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer;
  const out = data.slice();
  let viewBytes = 0;
  for (const d of data) if (!whole(d)) viewBytes += d.byteLength;
  const slab = viewBytes > 0 ? Buffer.allocUnsafeSlow(viewBytes) : undefined; // filled below: no zeroing
  if (slab !== undefined) transfer.push(slab.buffer);
  let at = 0;
  out.forEach((d, k) => {
    if (whole(d) && !transfer.includes(d.buffer as ArrayBuffer)) {
      transfer.push(d.buffer as ArrayBuffer);
      return;
    }
    if (whole(d)) {
      out[k] = new Uint8Array(d); // the same buffer twice in one batch: moved once, copied here
      transfer.push(out[k]!.buffer as ArrayBuffer);
      return;
    }
    slab!.set(d, at);
    out[k] = slab!.subarray(at, at + d.byteLength);
    at += d.byteLength;
  });
  return out;
}

/** A fixed pool of scan workers; tasks go to the least busy one. */
export class WorkerPool implements Scanner {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failed: Error | undefined;
  private ready = false;
  readonly capacity: number;

  /** `hyperscanDatabase`: the main thread's compiled database, so workers load it instead of compiling. */
  constructor(rules: RuleDefinition[], threads: number, hyperscanDatabase?: StoredDatabase) {
    const url = new URL('./scan-worker.js', import.meta.url);
    for (let i = 0; i < threads; i++) {
      const state = new SharedArrayBuffer(WORKER_STATE_BYTES);
      const workerData: ScanWorkerData = { rules, state, ...(hyperscanDatabase ? { hyperscanDatabase } : {}) };
      const worker = new Worker(url, { workerData });
      const slot: Slot = { worker, sent: 0, state: new Int32Array(state) };
      worker.on('message', (msg: WorkerResponse) => this.onMessage(msg));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`scan worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
    // Keep every worker fed while the main thread collects results.
    this.capacity = threads * 8;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * At least one worker has compiled its rules (before that, tasks wait in its queue). Polled, not
   * awaited: the caller may be in a synchronous loop in which no message event would run.
   */
  get started(): boolean {
    this.ready ||= this.slots.some((s) => Atomics.load(s.state, WORKER_STATE_READY) !== 0);
    return this.ready;
  }

  /**
   * Tasks queued at the least busy worker, as of now. Unlike `inFlight`, it does not wait for the
   * caller's event loop to take in results: a worker that has finished counts as free at once.
   */
  get shortestQueue(): number {
    let least = Infinity;
    for (const s of this.slots) least = Math.min(least, queued(s));
    return least;
  }

  scan(task: ScanTask): Promise<ScanResult> {
    if (this.failed) return Promise.reject(this.failed);
    let slot = this.slots[0]!;
    for (const s of this.slots) if (queued(s) < queued(slot)) slot = s;
    const id = this.nextId++;
    const transfer: ArrayBuffer[] = [];
    let msgTask = task;
    if (task.kind === 'bytes') msgTask = { ...task, data: movable([task.data], transfer)[0]! };
    else if (task.kind === 'blobs') msgTask = { kind: 'blobs', data: movable(task.data, transfer) };
    slot.sent++;
    return new Promise<ScanResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: WorkerRequest = { id, task: msgTask };
      slot.worker.postMessage(req, transfer);
    });
  }

  private onMessage(msg: WorkerResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined || msg.result === undefined) p.reject(new Error(msg.error ?? 'scan worker returned nothing'));
    else p.resolve(msg.packed === undefined ? msg.result : { ...msg.result, batch: unpackBatch(msg.packed) });
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const [, p] of this.pending) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** Scans on the calling thread: no worker start-up, for a handful of small inputs (pre-commit). */
export class InlineScanner implements Scanner {
  readonly capacity = 1;
  readonly inFlight = 0;
  constructor(private readonly rules: CompiledRuleSet) {}
  scan(task: ScanTask): Promise<ScanResult> {
    return Promise.resolve(runTask(this.rules, task));
  }
  async close(): Promise<void> {}
}

/** Main-thread scanning an adaptive scanner does before it starts workers (most small trees finish first). */
export const INLINE_BUDGET_MS = 120;

/** Batches queued per worker before the calling thread scans the next one itself. */
const QUEUED_PER_WORKER = 3;

/**
 * The calling thread is one of the `threads` scanning threads: it starts `threads - 1` workers.
 *
 * It scans alone until that has taken INLINE_BUDGET_MS, then starts the workers. A small tree (a
 * repository of a few hundred files) is done before workers would have started; a large one loses
 * nothing: the calling thread goes on scanning while the workers load and compile (about 100 ms)
 * and hands over once one is ready. From then on it scans a batch itself whenever the workers have
 * QUEUED_PER_WORKER batches each waiting, instead of waiting with them. Queues are counted through
 * memory shared with the workers: a worker that has finished is free at once, not when this thread
 * next takes in its results (that had left the worker idle 20% of its time). On the 2-core bench machine,
 * the main thread and one worker sharing the work beat the main thread dispatching to two
 * workers: 1.37 s against 1.46 s, CPU 2.15 s against 2.4 s (medians of 6 interleaved runs).
 */
export class AdaptiveScanner implements Scanner {
  private pool: WorkerPool | undefined;
  private spentMs = 0;
  private readonly budgetMs: number;
  private readonly workers: number;
  /** Scanned here while workers run: their results wait for the event loop. */
  private scannedHere = false;
  readonly capacity: number;

  constructor(
    private readonly compiled: CompiledRuleSet,
    private readonly rules: RuleDefinition[],
    threads: number,
  ) {
    this.workers = threads - 1;
    this.capacity = threads * 8;
    // LEAKHOUND_INLINE_MS=0 starts the workers at once and hands them work before they are ready
    // (tests of the pool, measurements)
    const env = Number(process.env['LEAKHOUND_INLINE_MS']);
    this.budgetMs = process.env['LEAKHOUND_INLINE_MS'] !== undefined && Number.isFinite(env) && env >= 0 ? env : INLINE_BUDGET_MS;
    if (this.budgetMs === 0 && this.workers > 0) this.pool = this.startPool();
  }

  private startPool(): WorkerPool {
    return new WorkerPool(this.rules, this.workers, this.compiled.prefilter.hyperscanDatabase);
  }

  get inFlight(): number {
    return this.pool?.inFlight ?? 0;
  }

  /** True once after this thread scanned while workers run: the caller should let events in. */
  needsEventLoop(): boolean {
    const wanted = this.scannedHere;
    this.scannedHere = false;
    return wanted;
  }

  scan(task: ScanTask): Promise<ScanResult> {
    const pool = this.pool;
    if (pool !== undefined && (pool.started || this.budgetMs === 0) && pool.shortestQueue < QUEUED_PER_WORKER) return pool.scan(task);
    const t0 = performance.now();
    let result: ScanResult;
    try {
      result = runTask(this.compiled, task);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.spentMs += performance.now() - t0;
      if (this.pool === undefined && this.workers > 0 && this.spentMs > this.budgetMs) this.pool = this.startPool();
      if (this.pool !== undefined) this.scannedHere = true;
    }
    return Promise.resolve(result);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

