/**
 * What a scan worker and its pool share in a SharedArrayBuffer: Int32 indices. The pool reads it
 * while its thread is busy in a synchronous loop, when no message event can run.
 */
/** Set to 1 once the worker has compiled its rules. */
export const WORKER_STATE_READY = 0;
/** Tasks the worker has finished (counted before their result is posted). */
export const WORKER_STATE_FINISHED = 1;
export const WORKER_STATE_BYTES = 2 * Int32Array.BYTES_PER_ELEMENT;
