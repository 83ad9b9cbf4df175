import { describe, expect, it } from 'vitest';
import { timeSlices } from './time-slices.ts';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('timeSlices', () => {
  it('lets timers run during long work cut into steps', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const slices = timeSlices(10);
    for (let step = 0; step < 20; step++) {
      await slices.pause();
      busy(5);
    }
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('does not yield within a slice', () => {
    expect(timeSlices(1_000).pause()).toBeUndefined();
  });
});
