import { parentPort, workerData } from 'node:worker_threads';
import type { RuleDefinition } from '../core/types.js';
import { compileRules } from '../engine/compile.js';
import { runTask, type ScanResult, type ScanTask } from './task.js';

/** Messages between the pool and a worker. */
export interface WorkerRequest {
  id: number;
  task: ScanTask;
}
export interface WorkerResponse {
  id: number;
  result?: ScanResult;
  error?: string;
}

// Rules compile once per worker; every task after that reuses the automaton.
const rules = compileRules((workerData as { rules: RuleDefinition[] }).rules);

parentPort!.on('message', (msg: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    response = { id: msg.id, result: runTask(rules, msg.task) };
  } catch (e) {
    response = { id: msg.id, error: (e as Error).message };
  }
  // transformed bytes go back without copying (cleanBatch allocates them unpooled)
  const t = response.result?.transformed;
  const transfer = t !== undefined && t.byteOffset === 0 && t.byteLength === t.buffer.byteLength && t.buffer instanceof ArrayBuffer ? [t.buffer] : [];
  parentPort!.postMessage(response, transfer);
});
