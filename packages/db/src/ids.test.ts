import { describe, expect, it } from 'vitest';
import { newContextId } from './ids.ts';

describe('context ids', () => {
  it('are UUIDv7s in the order they were made, also many in one millisecond, and all different', () => {
    const ids = Array.from({ length: 5000 }, () => newContextId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // the time part is the time they were made
    const msecs = Number.parseInt(ids.at(-1)!.replaceAll('-', '').slice(0, 12), 16);
    expect(Math.abs(msecs - Date.now())).toBeLessThan(60_000);
  });
});
