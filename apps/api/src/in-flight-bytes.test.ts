import { describe, expect, it } from 'vitest';
import { InFlightBytes } from './in-flight-bytes.ts';

describe('InFlightBytes', () => {
  it("refuses a tenant's body past its limit with 429, and counts tenants apart", () => {
    const inFlight = new InFlightBytes(100);
    const first = inFlight.open('a');
    first.add(80);
    const second = inFlight.open('a');
    expect(() => second.add(30)).toThrow(expect.objectContaining({ status: 429, code: 'staging_quota' }));
    inFlight.open('b').add(100);
    first.release();
    second.add(30);
    first.release(); // twice is harmless
    expect(() => inFlight.open('a').add(71)).toThrow();
  });

  it('does not limit with 0', () => {
    expect(() => new InFlightBytes(0).open('a').add(2 ** 40)).not.toThrow();
  });
});
