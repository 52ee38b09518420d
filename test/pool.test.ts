import { describe, expect, it } from 'vitest';
import { movable } from '../src/workers/pool.js';

describe('inputs moved to a worker', () => {
  it('transfers buffers of their own and copies views, all of a batch into one buffer', () => {
    const own = new Uint8Array([1, 2, 3]);
    const chunk = new Uint8Array(256).map((_, i) => i);
    const first = chunk.subarray(10, 20);
    const second = chunk.subarray(100, 105);
    const empty = chunk.subarray(7, 7);
    const transfer: ArrayBuffer[] = [];
    const out = movable([own, first, own, second, empty], transfer);

    expect(out.map((d) => [...d])).toEqual([[1, 2, 3], [...first], [1, 2, 3], [...second], []]);
    // the reader's chunk stays with the reader; the views' bytes travel in one new buffer
    expect(transfer).not.toContain(chunk.buffer);
    expect(out[0]!.buffer).toBe(own.buffer);
    expect(out[1]!.buffer).toBe(out[3]!.buffer);
    expect(out[1]!.buffer.byteLength).toBe(first.length + second.length);
    // a buffer named twice moves once; its second input is a copy of its own
    expect(out[2]!.buffer).not.toBe(own.buffer);
    expect(transfer).toEqual([out[1]!.buffer, own.buffer, out[2]!.buffer]);
  });

  it('allocates nothing when every input owns its buffer', () => {
    const a = new Uint8Array(4);
    const b = new Uint8Array(8);
    const transfer: ArrayBuffer[] = [];
    const out = movable([a, b], transfer);
    expect(out[0]).toBe(a);
    expect(out[1]).toBe(b);
    expect(transfer).toEqual([a.buffer, b.buffer]);
  });
});
