import { describe, expect, it } from 'vitest';
import { inProcessCounter } from './rate-limit.ts';

describe('inProcessCounter', () => {
  it('counts per tenant and second, starting again each second', async () => {
    const counter = inProcessCounter();
    expect(await counter.count('a', 10)).toBe(1);
    expect(await counter.count('a', 10)).toBe(2);
    expect(await counter.count('b', 10)).toBe(1);
    expect(await counter.count('a', 11)).toBe(1);
  });
});
