import { describe, expect, it } from 'vitest';
import { rawItems } from './raw-items.ts';
import { RequestFingerprint } from './request-fingerprint.ts';
import type { RawItem } from './schemas.ts';

const items = rawItems([
  { role: 'user', content: 'a' },
  { role: 'assistant', content: 'b' },
]);

async function* streamed(list: RawItem[]) {
  yield* list;
}

describe('RequestFingerprint', () => {
  it('is the same for the same fields and items, sent as an array or streamed', async () => {
    const array = new RequestFingerprint({ agent_id: 'x' });
    array.tap(items);
    const stream = new RequestFingerprint({ agent_id: 'x' });
    expect(await stream.complete(streamed(items))).toBe(array.digest());
  });

  it('differs when a field or an item differs, or items are missing', async () => {
    const of = (fields: object, list: RawItem[]) => new RequestFingerprint(fields).complete(list);
    const base = await of({ agent_id: 'x' }, items);
    expect(await of({ agent_id: 'y' }, items)).not.toBe(base);
    expect(await of({ agent_id: 'x' }, [items[0]!, ...rawItems([{ role: 'assistant', content: 'c' }])])).not.toBe(base);
    // the same item sent with other spacing is the same item
    expect(await of({ agent_id: 'x' }, [{ ...items[0]!, text: ' {"role": "user", "content": "a"} ' }, items[1]!])).toBe(
      base,
    );
    expect(await of({ agent_id: 'x' }, items.slice(0, 1))).not.toBe(base);
  });

  it('hashes a stream as it passes, handing every item on', async () => {
    const print = new RequestFingerprint({});
    const seen = await Array.fromAsync(print.tap(streamed(items)));
    expect(seen).toEqual(items);
    expect(print.digest()).toBe(await new RequestFingerprint({}).complete(items));
  });
});
