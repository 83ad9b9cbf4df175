import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UnsealError } from '../errors/unseal-error.ts';
import { FRAME_SIZE, seal, sealBuffer, sealedRange, sealedSize, sealKey, unseal, unsealBuffer } from './frames.ts';

const dataKey = randomBytes(32);
const segment = '01938a4e-7f00-7000-8000-000000000001';
const key = sealKey(dataKey, segment, 'object');

async function* pieces(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

describe('sealed frames', () => {
  for (const size of [0, 1, FRAME_SIZE - 1, FRAME_SIZE, FRAME_SIZE + 1, 3 * FRAME_SIZE, 200_003]) {
    it(`round-trips ${size} bytes streamed in odd pieces, at the size it announces`, async () => {
      const plain = randomBytes(size);
      const sealed = await collect(seal(key, pieces(plain, 7919)));
      expect(sealed.length).toBe(sealedSize(size));
      if (size > 64) expect(sealed.includes(plain.subarray(0, 64))).toBe(false);
      expect(await collect(unseal(key, pieces(sealed, 4099), { toEnd: true }))).toEqual(plain);
    });
  }

  it('opens any byte range from the frames that hold it alone', async () => {
    const plain = randomBytes(5 * FRAME_SIZE + 1234);
    const sealed = await sealBuffer(key, plain);
    for (const [start, end] of [
      [0, 10],
      [FRAME_SIZE - 3, FRAME_SIZE + 3],
      [2 * FRAME_SIZE, 3 * FRAME_SIZE - 1],
      [4 * FRAME_SIZE + 17, plain.length - 1],
      [plain.length - 1, plain.length - 1],
    ] as const) {
      const range = sealedRange(start, end);
      // a store clamps the end of a range to the object's end
      const fetched = sealed.subarray(range.start, Math.min(range.end, sealed.length - 1) + 1);
      const opened = await collect(
        unseal(key, pieces(fetched, 10_000), { firstFrame: range.firstFrame, toEnd: false }),
      );
      expect(opened.subarray(range.skip, range.skip + end - start + 1)).toEqual(plain.subarray(start, end + 1));
    }
  });

  it('refuses a flipped bit anywhere', async () => {
    const plain = randomBytes(2 * FRAME_SIZE + 10);
    const sealed = await sealBuffer(key, plain);
    for (const at of [0, FRAME_SIZE + 5, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at]! ^= 1;
      await expect(unsealBuffer(key, tampered)).rejects.toBeInstanceOf(UnsealError);
    }
  });

  it('refuses a body cut at a frame boundary, frames swapped, and frames of another segment', async () => {
    const plain = randomBytes(3 * FRAME_SIZE + 10);
    const sealed = await sealBuffer(key, plain);
    const frame = FRAME_SIZE + 16;
    await expect(unsealBuffer(key, sealed.subarray(0, 2 * frame))).rejects.toBeInstanceOf(UnsealError);
    const swapped = Buffer.concat([
      sealed.subarray(frame, 2 * frame),
      sealed.subarray(0, frame),
      sealed.subarray(2 * frame),
    ]);
    await expect(unsealBuffer(key, swapped)).rejects.toBeInstanceOf(UnsealError);
    // the last frame passed off as a middle one, or a middle one as the last
    await expect(unsealBuffer(key, sealed.subarray(0, 3 * frame))).rejects.toBeInstanceOf(UnsealError);
    const other = sealKey(dataKey, '01938a4e-7f00-7000-8000-000000000002', 'object');
    await expect(unsealBuffer(other, sealed)).rejects.toBeInstanceOf(UnsealError);
    await expect(unsealBuffer(key, Buffer.alloc(0))).rejects.toBeInstanceOf(UnsealError);
  });

  it('refuses the wrong data key, and derives distinct keys per segment and per body', async () => {
    const sealed = await sealBuffer(key, Buffer.from('{"role":"user","content":"secret"}\n'));
    await expect(unsealBuffer(sealKey(randomBytes(32), segment, 'object'), sealed)).rejects.toThrow(/does not open/);
    expect(sealKey(dataKey, segment, 'inline')).not.toEqual(key);
    expect(sealKey(dataKey, segment, 'object')).toEqual(key);
  });
});
