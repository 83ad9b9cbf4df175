import { describe, expect, it } from 'vitest';
import { HeldLines } from './held-lines.ts';

async function* source(lines: string[]): AsyncGenerator<Buffer> {
  for (const line of lines) yield Buffer.from(line);
}

const text = async (lines: AsyncIterable<Buffer>, take = Number.POSITIVE_INFINITY) => {
  const out: string[] = [];
  for await (const line of lines) {
    out.push(line.toString());
    if (out.length >= take) break;
  }
  return out;
};

describe('HeldLines', () => {
  it('gives every line, then the end, to the upload', async () => {
    const held = new HeldLines([Buffer.from('a')], source(['b', 'c'])[Symbol.asyncIterator]());
    expect(await text(held.forUpload(() => Buffer.from('end')))).toEqual(['a', 'b', 'c', 'end']);
  });

  it('gives the lines read so far again, then the rest, when the upload failed before release', async () => {
    const held = new HeldLines([Buffer.from('a')], source(['b', 'c', 'd'])[Symbol.asyncIterator]());
    expect(
      await text(
        held.forUpload(() => Buffer.from('end')),
        2,
      ),
    ).toEqual(['a', 'b']);
    expect(await text(held.rest())).toEqual(['a', 'b', 'c', 'd']);
  });

  it('holds nothing once released, and refuses to give the lines again', async () => {
    const held = new HeldLines([Buffer.from('a')], source(['b', 'c'])[Symbol.asyncIterator]());
    const upload = held.forUpload(() => Buffer.from('end'));
    expect((await upload.next()).value?.toString()).toBe('a');
    held.release();
    expect(await text(upload)).toEqual(['b', 'c', 'end']);
    await expect(text(held.rest())).rejects.toThrow(/released/);
  });

  it('fails the rest with the source error of a read under way', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('b');
      throw new Error('client gone');
    }
    const held = new HeldLines([], failing()[Symbol.asyncIterator]());
    const upload = held.forUpload(() => Buffer.from('end'));
    expect((await upload.next()).value?.toString()).toBe('b');
    const reading = upload.next().catch(() => {});
    await expect(text(held.rest())).rejects.toThrow('client gone');
    await reading;
  });
});
