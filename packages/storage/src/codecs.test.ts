import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CODECS, codecSuffix, compressor, decompressor } from './codecs.ts';

describe('codecs', () => {
  const text = Buffer.from('{"role":"user","content":"hello hello hello hello"}\n'.repeat(2000));

  for (const codec of CODECS) {
    it(`${codec} round-trips a stream`, async () => {
      const compressed = await buffer(
        Readable.from([text]).pipe(compressor(codec, codec === 'identity' ? undefined : 3)),
      );
      if (codec !== 'identity') expect(compressed.length).toBeLessThan(text.length / 10);
      const out: Buffer[] = [];
      await pipeline(Readable.from([compressed]), decompressor(codec), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) out.push(chunk);
      });
      expect(Buffer.concat(out).equals(text)).toBe(true);
    });
  }

  it('names key suffixes', () => {
    expect([codecSuffix('identity'), codecSuffix('gzip'), codecSuffix('zstd')]).toEqual([undefined, 'gz', 'zst']);
  });
});
