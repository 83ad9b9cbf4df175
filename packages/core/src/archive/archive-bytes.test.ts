import { describe, expect, it } from 'vitest';
import { decodedArchive, encodedArchive } from './archive-bytes.ts';

const text = Array.from({ length: 2000 }, (_, i) => `{"type":"x","n":${i},"s":"\u00e9\u{1F600}"}\n`).join('');

async function collect(bytes: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of bytes) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The bytes one at a time at first: the codec is told from the first four, however they arrive. */
async function* trickle(buf: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < 6 && i < buf.length; i++) yield buf.subarray(i, i + 1);
  if (buf.length > 6) yield buf.subarray(6);
}

describe('archive bytes', () => {
  for (const codec of ['identity', 'gzip', 'zstd'] as const) {
    it(`reads back a ${codec} archive as written`, async () => {
      const written = await collect(
        encodedArchive(
          (async function* () {
            yield Buffer.from(text);
          })(),
          codec,
        ),
      );
      if (codec !== 'identity') expect(written.length).toBeLessThan(text.length);
      expect((await collect(decodedArchive(trickle(written)))).toString()).toBe(text);
    });
  }

  it('passes through an input shorter than any magic number', async () => {
    expect((await collect(decodedArchive(trickle(Buffer.from('{}'))))).toString()).toBe('{}');
    expect(await collect(decodedArchive(trickle(Buffer.alloc(0))))).toEqual(Buffer.alloc(0));
  });
});
