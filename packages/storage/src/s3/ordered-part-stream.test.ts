import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { OrderedPartStream } from './ordered-part-stream.ts';

const PART = 64 * 1024;

/** A fake fetcher that records what was asked and when, answering each part after `delayOf(index)` ms. */
function fakeFetcher(delayOf: (index: number) => number, failAt?: number) {
  const state = { started: [] as number[], inFlight: 0, maxInFlight: 0, aborted: [] as number[] };
  const fetchPart = async (index: number, signal: AbortSignal): Promise<Uint8Array> => {
    state.started.push(index);
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      await sleep(delayOf(index), undefined, { signal });
      if (index === failAt) throw new Error(`part ${index} failed`);
      return Buffer.alloc(PART, index);
    } catch (err) {
      if (signal.aborted) state.aborted.push(index);
      throw err;
    } finally {
      state.inFlight -= 1;
    }
  };
  return { state, fetchPart };
}

describe('OrderedPartStream', () => {
  it('emits parts in order although later parts arrive first', async () => {
    const { state, fetchPart } = fakeFetcher((index) => (index % 3 === 0 ? 30 : 1));
    const chunks = (await new OrderedPartStream(10, fetchPart, 4).toArray()) as Buffer[];
    const data = Buffer.concat(chunks);
    expect(data.length).toBe(10 * PART);
    for (let index = 0; index < 10; index += 1) expect(data[index * PART]).toBe(index);
    expect(state.maxInFlight).toBe(4);
  });

  it('stops fetching while the consumer does not read', async () => {
    const { state, fetchPart } = fakeFetcher(() => 1);
    const stream = new OrderedPartStream(100, fetchPart, 3);
    const reader = stream[Symbol.asyncIterator]();
    await reader.next();
    await sleep(50);
    // One part with the reader, one in the stream's buffer, `concurrency` fetched ahead.
    expect(state.started.length).toBeLessThanOrEqual(5);
    await reader.return?.();
  });

  it('aborts every fetch in flight when the consumer destroys the stream', async () => {
    const { state, fetchPart } = fakeFetcher((index) => (index === 0 ? 1 : 10_000));
    const stream = new OrderedPartStream(10, fetchPart, 3);
    const reader = stream[Symbol.asyncIterator]();
    await reader.next();
    await reader.return?.();
    await sleep(10);
    expect(stream.destroyed).toBe(true);
    expect(state.aborted.length).toBeGreaterThan(0);
    expect(state.inFlight).toBe(0);
  });

  it('fails as soon as any part fails, aborting the others', async () => {
    const { state, fetchPart } = fakeFetcher((index) => (index === 2 ? 5 : 10_000), 2);
    const stream = new OrderedPartStream(10, fetchPart, 4);
    await expect(stream.toArray()).rejects.toThrow('part 2 failed');
    await sleep(10);
    expect(state.inFlight).toBe(0);
  });

  it('ends at once with no parts', async () => {
    const { fetchPart } = fakeFetcher(() => 1);
    expect(await new OrderedPartStream(0, fetchPart, 2).toArray()).toEqual([]);
  });
});
