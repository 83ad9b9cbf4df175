import type { Segment } from '@ctxvault/db';
import { describe, expect, it } from 'vitest';
import { compactionRun } from './compactor.ts';

let next = 0;
const seg = (size_bytes: number, state: Segment['state'] = 'inline'): Segment =>
  ({ id: `s${next++}`, size_bytes, state, format: 'lines' }) as Segment;
const base = (size: number) => seg(size, 'stored');
/** The sizes of the run picked, and the position of its first segment. */
function picked(segs: Segment[], maxSegments = 32, maxBytes = 64e6): { from: number; sizes: number[] } | null {
  const run = compactionRun(segs, { maxSegments, maxBytes });
  return run && { from: run.from, sizes: run.segments.map((s) => s.size_bytes) };
}

describe('compactionRun', () => {
  it('merges the whole tail of equal appends, leaving the base', () => {
    const appends = Array.from({ length: 31 }, () => seg(100));
    expect(picked([base(1e6), ...appends])).toEqual({ from: 2, sizes: appends.map(() => 100) });
  });

  it('leaves a merged segment larger than what was appended after it (size-tiered)', () => {
    const appends = Array.from({ length: 20 }, () => seg(100));
    expect(picked([base(1e6), seg(5000), seg(2500), ...appends])).toEqual({ from: 4, sizes: appends.map(() => 100) });
  });

  it('takes older merged segments again once as much was appended after them', () => {
    const appends = Array.from({ length: 25 }, () => seg(100));
    expect(picked([base(1e6), seg(6000), seg(2500), ...appends])).toEqual({
      from: 3,
      sizes: [2500, ...appends.map(() => 100)],
    });
    expect(picked([base(1e6), seg(5000), seg(2500), ...appends])).toEqual({
      from: 2,
      sizes: [5000, 2500, ...appends.map(() => 100)],
    });
  });

  it('merges the whole tail when the segments left would be more than half of max_segments', () => {
    const tiers = [6400, 3200, 1600, 800, 400, 200];
    expect(picked([base(1e6), ...tiers.map((n) => seg(n)), seg(100), seg(50)], 12)?.from).toBe(2);
    expect(picked([base(1e6), ...tiers.map((n) => seg(n)), seg(100), seg(50)], 32)).toEqual({
      from: 8,
      sizes: [100, 50],
    });
  });

  it('merges the base too once the tail is as large, and never a staged segment or what follows it', () => {
    expect(picked([base(300), seg(200), seg(100)])).toEqual({ from: 1, sizes: [300, 200, 100] });
    expect(picked([base(1e6), seg(100), seg(100), seg(100, 'staged'), seg(100)])).toEqual({
      from: 2,
      sizes: [100, 100],
    });
    expect(picked([base(1e6), seg(100)])).toBeNull();
  });

  it('merges the base too once the tail holds more than max_bytes, so no later append enqueues a rewrite of it', () => {
    expect(picked([base(1e6), seg(6000), seg(100)], 32, 5000)).toEqual({ from: 1, sizes: [1e6, 6000, 100] });
    expect(picked([base(1e6), seg(6000), seg(100)], 32, 64e6)).toEqual({ from: 2, sizes: [6000, 100] });
  });
});
