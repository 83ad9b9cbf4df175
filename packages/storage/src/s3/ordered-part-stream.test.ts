import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { OrderedPartStream } from './ordered-part-stream.ts';

const PART = 64 * 1024;

/**
 * A fake fetcher that records what was asked and when, answering each part in two halves, the
 * first after `delayOf(index)` ms and the second after `secondHalfDelay` ms more.
 */
function fakeFetcher(delayOf: (index: number) => number, failAt?: number, secondHalfDelay = 0) {
  const state = { started: [] as number[], inFlight: 0, maxInFlight: 0, aborted: [] as number[] };
  async function* openPart(index: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    state.started.push(index);
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      await sleep(delayOf(index), undefined, { signal });
      if (index === failAt) throw new Error(`part ${index} failed`);
      yield Buffer.alloc(PART / 2, index);
      await sleep(secondHalfDelay, undefined, { signal });
      yield Buffer.alloc(PART / 2, index);
    } catch (err) {
      if (signal.aborted) state.aborted.push(index);
      throw err;
    } finally {
      state.inFlight -= 1;
    }
  }
  return { state, fetchPart: openPart };
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

  it('passes the front part on while it still arrives', async () => {
    const { fetchPart } = fakeFetcher(() => 1, undefined, 10_000);
    const stream = new OrderedPartStream(3, fetchPart, 2);
    const reader = stream[Symbol.asyncIterator]();
    const first = (await reader.next()).value as Buffer;
    expect(first.length).toBe(PART / 2);
    expect(first[0]).toBe(0);
    await reader.return?.();
  });

  it('ends at once with no parts', async () => {
    const { fetchPart } = fakeFetcher(() => 1);
    expect(await new OrderedPartStream(0, fetchPart, 2).toArray()).toEqual([]);
  });
});
