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
  parentPort!.postMessage(response);
});
