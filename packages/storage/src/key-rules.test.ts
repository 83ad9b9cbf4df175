import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from './errors/invalid-key-error.ts';
import { assertValidKey, assertValidPrefix, assertValidRange } from './key-rules.ts';

describe('key rules', () => {
  it.each(['a', 'contexts/ab/x/1.json', '%2e%2e/x', '..a/b..', 'spaces are fine', 'ünïcode/ok'])(
    'accepts the key %j',
    (key) => {
      expect(() => assertValidKey(key)).not.toThrow();
    },
  );

  it.each(['', '/a', 'a/', 'a//b', '.', '..', 'a/./b', 'a/../b', 'a\\b', 'a\0b', 'x'.repeat(1025)])(
    'refuses the key %j',
    (key) => {
      expect(() => assertValidKey(key)).toThrow(InvalidKeyError);
    },
  );

  it.each(['', 'contexts/', 'contexts/a', 'contexts/ab/'])('accepts the prefix %j', (prefix) => {
    expect(() => assertValidPrefix(prefix)).not.toThrow();
  });

  it.each(['/', '/contexts', 'contexts//', '../', 'a/../'])('refuses the prefix %j', (prefix) => {
    expect(() => assertValidPrefix(prefix)).toThrow(InvalidKeyError);
  });

  it('accepts inclusive ranges and refuses inverted, negative or fractional ones', () => {
    expect(() => assertValidRange({ start: 0, end: 0 })).not.toThrow();
    for (const range of [
      { start: 2, end: 1 },
      { start: -1, end: 3 },
      { start: 0.5, end: 3 },
    ]) {
      expect(() => assertValidRange(range)).toThrow(expect.objectContaining({ code: 'invalid_range' }));
    }
  });
});
