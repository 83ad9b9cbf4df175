import { describe, expect, it } from 'vitest';
import { BodyCache, type SharedBodyCache } from './body-cache.ts';

const id = (n: number) => `0190a0b0-0000-7000-8000-00000000000${n}`;

describe('BodyCache', () => {
  it('keys by (id, version), so a new version is a miss, never the old body', async () => {
    const cache = new BodyCache({ maxBytes: 1000, maxItemBytes: 100 });
    await cache.put(id(1), 1, Buffer.from('v1'));
    expect((await cache.get(id(1), 1))?.toString()).toBe('v1');
    expect(await cache.get(id(1), 2)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ memory_hits: 1, misses: 1, entries: 1, bytes: 2 });
  });

  it('evicts the least recently used entries to stay within its byte budget', async () => {
    const cache = new BodyCache({ maxBytes: 30, maxItemBytes: 10 });
    for (let n = 1; n <= 3; n++) await cache.put(id(n), 1, Buffer.alloc(10));
    await cache.get(id(1), 1); // 1 is now the most recent
    await cache.put(id(4), 1, Buffer.alloc(10));
    expect(await cache.get(id(2), 1)).toBeUndefined();
    expect(await cache.get(id(1), 1)).toBeDefined();
    expect(cache.stats().bytes).toBe(30);
  });

  it('never holds a body over the per-item limit, and is off at max_bytes 0', async () => {
    const cache = new BodyCache({ maxBytes: 1000, maxItemBytes: 10 });
    await cache.put(id(1), 1, Buffer.alloc(11));
    expect(await cache.get(id(1), 1)).toBeUndefined();
    const off = new BodyCache({ maxBytes: 0, maxItemBytes: 10 });
    await off.put(id(1), 1, Buffer.alloc(5));
    expect(off.accepts(5)).toBe(false);
    expect(await off.get(id(1), 1)).toBeUndefined();
  });

  it('shares small bodies through the shared tier', async () => {
    const store = new Map<string, Buffer>();
    const shared: SharedBodyCache = {
      get: async (k) => store.get(k) ?? null,
      set: async (k, v) => void store.set(k, v),
    };
    const a = new BodyCache({ maxBytes: 1000, maxItemBytes: 100, shared: { cache: shared, maxItemBytes: 50 } });
    const b = new BodyCache({ maxBytes: 1000, maxItemBytes: 100, shared: { cache: shared, maxItemBytes: 50 } });
    await a.put(id(1), 1, Buffer.from('small'));
    await a.put(id(2), 1, Buffer.alloc(60));
    expect((await b.get(id(1), 1))?.toString()).toBe('small');
    expect(await b.get(id(2), 1)).toBeUndefined();
    expect(b.stats()).toMatchObject({ shared_hits: 1, misses: 1 });
  });

  it('lets concurrent misses for one body share one fetch', async () => {
    const cache = new BodyCache({ maxBytes: 1000, maxItemBytes: 100 });
    let fetches = 0;
    const read = async () => {
      const found = await cache.getOrClaim(id(1), 1);
      if ('body' in found) return found.body.toString();
      fetches++;
      await new Promise((r) => setTimeout(r, 20));
      await found.fetch.done(Buffer.from('body'));
      return 'body';
    };
    expect(await Promise.all(Array.from({ length: 10 }, read))).toEqual(Array(10).fill('body'));
    expect(fetches).toBe(1);
    expect((await cache.get(id(1), 1))?.toString()).toBe('body');
  });

  it('lets the waiters fetch for themselves when the first fetch gives up', async () => {
    const cache = new BodyCache({ maxBytes: 1000, maxItemBytes: 100 });
    const first = await cache.getOrClaim(id(1), 1);
    const waiter = cache.getOrClaim(id(1), 1);
    if (!('fetch' in first)) throw new Error('expected a miss');
    await first.fetch.done(undefined);
    await first.fetch.done(Buffer.from('too late'));
    const second = await waiter;
    expect(second).toHaveProperty('fetch');
    expect(await cache.get(id(1), 1)).toBeUndefined();
  });
});
