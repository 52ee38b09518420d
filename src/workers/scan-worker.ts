import { parentPort, workerData } from 'node:worker_threads';
import type { RuleDefinition } from '../core/types.js';
import { compileRules } from '../engine/compile.js';
import type { StoredDatabase } from '../engine/multipattern.js';
import { packBatch, runTask, type PackedBatch, type ScanResult, type ScanTask } from './task.js';
import { WORKER_STATE_FINISHED, WORKER_STATE_READY } from './state.js';

/** Messages between the pool and a worker. */
export interface WorkerRequest {
  id: number;
  task: ScanTask;
}
export interface WorkerResponse {
  id: number;
  /** The result; for a batch, without its `batch`, which travels packed. */
  result?: ScanResult;
  packed?: PackedBatch;
  error?: string;
}

export interface ScanWorkerData {
  rules: RuleDefinition[];
  /** The main thread's compiled Hyperscan database (see multipattern.ts). */
  hyperscanDatabase?: StoredDatabase;
  /**
   * Shared with the pool (state.ts): set ready once the rules are compiled, and tasks
   * finished. The pool reads it while its thread is busy in a loop, when no message event can run.
   */
  state: SharedArrayBuffer;
}


// Rules compile once per worker; every task after that reuses the automaton.
const data = workerData as ScanWorkerData;
const rules = compileRules(data.rules, {
  hyperscanStore: { get: (key) => (key === data.hyperscanDatabase?.key ? data.hyperscanDatabase.bytes : undefined), put: () => undefined },
});

const state = new Int32Array(data.state);
Atomics.store(state, WORKER_STATE_READY, 1);

parentPort!.on('message', (msg: WorkerRequest) => {
  let response: WorkerResponse;
  const transfer: ArrayBuffer[] = [];
  try {
    const result = runTask(rules, msg.task);
    if (result.batch !== undefined) {
      const packed = packBatch(result.batch);
      const { batch: _unpacked, ...rest } = result;
      response = { id: msg.id, result: rest, packed };
      transfer.push(packed.status.buffer as ArrayBuffer, packed.bytes.buffer as ArrayBuffer);
    } else response = { id: msg.id, result };
  } catch (e) {
    response = { id: msg.id, error: (e as Error).message };
  }
  // transformed bytes go back without copying (cleanBatch allocates them unpooled)
  const t = response.result?.transformed;
  if (t !== undefined && t.byteOffset === 0 && t.byteLength === t.buffer.byteLength && t.buffer instanceof ArrayBuffer) transfer.push(t.buffer);
  // counted before the result is posted: the pool may read it before that message is handled
  Atomics.add(state, WORKER_STATE_FINISHED, 1);
  parentPort!.postMessage(response, transfer);
});
