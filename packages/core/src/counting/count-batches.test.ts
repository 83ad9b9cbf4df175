import { describe, expect, it } from 'vitest';
import { CountBatches, keptCounter } from './count-batches.ts';

const lengths = async (texts: readonly string[]) => texts.map((t) => t.length);

describe('CountBatches', () => {
  it('counts in batches started while items are added, and gives every count in order', async () => {
    const calls: number[] = [];
    const counting = new CountBatches(async (texts) => {
      calls.push(texts.length);
      return lengths(texts);
    });
    const texts = Array.from({ length: 3000 }, (_, i) => 'x'.repeat(1000 + (i % 7)));
    for (const text of texts) await counting.add(text);
    expect(await counting.counts()).toEqual(texts.map((t) => t.length));
    // about 1 MiB a call: three calls for ~3 MB, the last one the rest
    expect(calls.length).toBe(3);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(3000);
  });

  it('fails with the failure of a batch', async () => {
    const counting = new CountBatches(async () => {
      throw new Error('thread gone');
    });
    for (let i = 0; i < 6000; i++) await counting.add('y'.repeat(1000)).catch(() => {});
    await expect(counting.counts()).rejects.toThrow('thread gone');
  });
});

describe('keptCounter', () => {
  it('hands out kept counts in order across calls and counts the items beyond them', async () => {
    const count = keptCounter([5, 6, 7], lengths);
    expect(await count(['a', 'b'])).toEqual([5, 6]);
    expect(await count(['c', 'dddd'])).toEqual([7, 4]);
    expect(await keptCounter([1])(['a', 'b'])).toEqual([1, 0]);
  });
});
