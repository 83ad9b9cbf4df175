import { describe, expect, it } from 'vitest';
import { arrayElementTexts } from './json-items.ts';

describe('arrayElementTexts', () => {
  it('slices each element of the array under the key as written', () => {
    const body = `{"agent_id":"a","content":[ {"role":"user","content":"x","metadata":{"n":12345678901234567890}} ,\n  {"content":[{"t":"]}"}],"role":"tool"}, 1e400 ]}`;
    expect(arrayElementTexts(body, 'content')).toEqual([
      '{"role":"user","content":"x","metadata":{"n":12345678901234567890}}',
      '{"content":[{"t":"]}"}],"role":"tool"}',
      '1e400',
    ]);
  });

  it('skips other keys, nested look-alikes and escaped quotes; the last repeated key counts', () => {
    const body = `{"x":{"content":["no"]},"s":"\\"content\\":[1]","content":["first"],"content":["a\\"b",{"k":[[]]}]}`;
    expect(arrayElementTexts(body, 'content')).toEqual(['"a\\"b"', '{"k":[[]]}']);
  });

  it('is null without the array, and empty for an empty one', () => {
    expect(arrayElementTexts('{"agent_id":"a"}', 'content')).toBeNull();
    expect(arrayElementTexts('{"content":[ ]}', 'content')).toEqual([]);
    expect(arrayElementTexts('[1]', 'content')).toBeNull();
  });
});
