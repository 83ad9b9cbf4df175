import { describe, expect, it } from 'vitest';
import { findUnstorable, MAX_JSON_DEPTH } from './storable-json.ts';

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

describe('findUnstorable', () => {
  it('accepts ordinary JSON, including astral characters and properly paired surrogates', () => {
    expect(
      findUnstorable({
        agent_id: 'a',
        content: [{ role: 'user', content: 'héllo 🎉 \ud83c\udf89' }],
        metadata: { n: 1, ok: true, none: null },
      }),
    ).toBeNull();
    expect(findUnstorable(nested(MAX_JSON_DEPTH))).toBeNull();
  });

  it('names the path of a NUL in a value or a key', () => {
    expect(findUnstorable({ metadata: { tags: ['x', 'a\u0000b'] } })).toEqual({
      path: 'metadata.tags.1',
      message: 'text contains NUL (U+0000), which cannot be stored',
    });
    expect(findUnstorable({ metadata: { 'k\u0000': 1 } })).toEqual({
      path: 'metadata.k\u0000',
      message: 'key contains NUL (U+0000), which cannot be stored',
    });
  });

  it('refuses lone surrogates, high or low', () => {
    for (const text of ['\ud800', 'x\udfff', '\udc00\ud800']) {
      expect(findUnstorable({ name: text })).toEqual({
        path: 'name',
        message: 'text is not well-formed Unicode (it has a lone surrogate)',
      });
    }
  });

  it('refuses nesting deeper than the limit without recursing through all of it', () => {
    expect(findUnstorable(nested(MAX_JSON_DEPTH + 1))?.message).toBe(`is nested deeper than ${MAX_JSON_DEPTH} levels`);
    let deep: unknown = [];
    for (let level = 0; level < 100_000; level++) deep = [deep];
    expect(findUnstorable({ metadata: deep })?.path).toMatch(/^metadata(\.0)+$/);
  });

  it('checks a bare string too (a path parameter)', () => {
    expect(findUnstorable('a\u0000')).toEqual({
      path: '',
      message: 'text contains NUL (U+0000), which cannot be stored',
    });
  });
});
