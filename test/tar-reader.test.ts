import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { tarEntries } from '../src/sources/archive/stream.js';
import { tar, tarHeader } from './helpers/image-builder.js';

/** The archive as a stream of small, odd-sized chunks, so headers and data straddle chunks. */
const chunked = (b: Buffer, size = 333): Readable => Readable.from((function* () {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
})());

/** An archive written by tar-stream (pax headers for long names and big values). */
async function packed(entries: { name: string; data?: string; type?: 'file' | 'symlink'; linkname?: string }[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname! });
    else pack.entry({ name: e.name }, e.data ?? '');
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

describe('tar reader', () => {
  it('reads names (ustar prefix, pax, GNU long names), links and data across chunk boundaries', async () => {
    const longName = `${'deep/'.repeat(40)}file.txt`;
    const gnuName = `${'gnu/'.repeat(50)}long.env`;
    const gnuLong = Buffer.from(`${gnuName}\0`);
    const archive = Buffer.concat([
      await packed([
        { name: 'a.txt', data: 'x'.repeat(1000) },
        { name: longName, data: 'pax named' },
        { name: 'link', type: 'symlink', linkname: 'a.txt' },
      ]).then((b) => b.subarray(0, b.length - 1024)),
      tarHeader('././@LongLink', gnuLong.length, 'L'),
      gnuLong,
      Buffer.alloc(512 - gnuLong.length),
      tar([{ name: 'short-name-replaced', data: 'gnu named' }]),
    ]);
    const seen: [string, string, string][] = [];
    for await (const e of tarEntries(chunked(archive))) {
      const body = e.header.type === 'file' ? (await e.read()).toString() : e.header.linkname;
      seen.push([e.header.type, e.header.name, body]);
    }
    expect(seen).toEqual([
      ['file', 'a.txt', 'x'.repeat(1000)],
      ['file', longName, 'pax named'],
      ['symlink', 'link', 'a.txt'],
      ['file', gnuName, 'gnu named'],
    ]);
  });

  it('skips what the consumer leaves: unread members, half-read and destroyed streams', async () => {
    const archive = tar([
      { name: 'skipped', data: 'a'.repeat(5000) },
      { name: 'half', data: 'b'.repeat(300_000) },
      { name: 'destroyed', data: 'c'.repeat(300_000) },
      { name: 'last', data: 'the end' },
    ]);
    const got: string[] = [];
    for await (const e of tarEntries(chunked(archive, 4096))) {
      if (e.header.name === 'half') {
        const it = e.stream()[Symbol.asyncIterator]();
        await it.next();
        got.push('half');
      } else if (e.header.name === 'destroyed') {
        const s = e.stream();
        await new Promise((r) => s.once('data', r));
        s.destroy();
        got.push('destroyed');
      } else if (e.header.name === 'last') got.push((await e.read()).toString());
    }
    expect(got).toEqual(['half', 'destroyed', 'the end']);
  });

  it('a truncated archive and a corrupt header are errors, after the members before them', async () => {
    const archive = tar([
      { name: 'one', data: 'first' },
      { name: 'two', data: 'y'.repeat(4000) },
    ]);
    const names: string[] = [];
    const read = async (b: Buffer): Promise<void> => {
      for await (const e of tarEntries(chunked(b))) {
        names.push(e.header.name);
        await e.read();
      }
    };
    await expect(read(archive.subarray(0, 1024 + 512 + 1000))).rejects.toThrow(/unexpected end of data \(inside 'two'\)/);
    expect(names).toEqual(['one', 'two']);
    await expect(read(archive.subarray(0, 1024 + 100))).rejects.toThrow(/unexpected end of data \(inside a header\)/);
    const corrupt = Buffer.from(archive);
    corrupt[1024 + 10] = 0x41; // the second header's name, so its checksum no longer holds
    names.length = 0;
    await expect(read(corrupt)).rejects.toThrow(/corrupt archive/);
    expect(names).toEqual(['one']);
    // ending between members without the end-of-archive blocks is fine
    names.length = 0;
    await read(archive.subarray(0, archive.length - 1024));
    expect(names).toEqual(['one', 'two']);
  });
});
