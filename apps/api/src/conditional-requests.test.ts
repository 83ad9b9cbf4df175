import { CtxvaultError } from '@ctxvault/core';
import { describe, expect, it } from 'vitest';
import {
  conditionMatches,
  isNotModified,
  parseTagCondition,
  readCondition,
  requireMatch,
  versionTag,
} from './conditional-requests.ts';

const strong = (opaque: string) => ({ weak: false, opaque });
const weak = (opaque: string) => ({ weak: true, opaque });

describe('parseTagCondition', () => {
  it.each([
    ['*', '*'],
    [' * ', '*'],
    ['"3"', [strong('3')]],
    ['W/"3"', [weak('3')]],
    ['""', [strong('')]],
    ['"1", W/"2" ,"3"', [strong('1'), weak('2'), strong('3')]],
    ['"a,b", "cd"', [strong('a,b'), strong('cd')]],
    [', "1",, "2" ,', [strong('1'), strong('2')]],
    ['3', [strong('3')]],
    ['"1", 2', [strong('1'), strong('2')]],
  ])('reads %j', (field, expected) => {
    expect(parseTagCondition(field)).toEqual(expected);
  });

  it.each(['', ' ', ',', 'yesterday', '"3', '3"', 'W/3', 'w/"3"', '"1" "2"', '*, "1"', '"a"b', '"a b"', 'W/ "3"'])(
    'refuses %j',
    (field) => {
      expect(parseTagCondition(field)).toBeNull();
    },
  );
});

describe('comparison (RFC 9110 §8.8.3.2)', () => {
  it.each([
    [strong('1'), strong('1'), true, true],
    [strong('1'), weak('1'), false, true],
    [weak('1'), strong('1'), false, true],
    [weak('1'), weak('1'), false, true],
    [strong('1'), strong('2'), false, false],
  ])('%j against %j: strong %s, weak %s', (tag, current, strongly, weakly) => {
    expect(conditionMatches([tag], current, 'strong')).toBe(strongly);
    expect(conditionMatches([tag], current, 'weak')).toBe(weakly);
  });

  it('matches "*" always and a list when any member matches', () => {
    expect(conditionMatches('*', strong('9'), 'strong')).toBe(true);
    expect(conditionMatches([strong('1'), strong('9')], strong('9'), 'strong')).toBe(true);
    expect(conditionMatches([weak('9'), strong('1')], strong('9'), 'strong')).toBe(false);
  });
});

describe('If-None-Match', () => {
  it('is not modified for the current version, weak or strong, in a list or as "*"', () => {
    for (const field of [versionTag(4), 'W/"4"', '"1", W/"4"', '*']) {
      expect(isNotModified(readCondition('if-none-match', field), 4)).toBe(true);
    }
  });

  it('is modified for other versions and without the field', () => {
    expect(isNotModified(readCondition('if-none-match', '"3", W/"5"'), 4)).toBe(false);
    expect(isNotModified(readCondition('if-none-match', undefined), 4)).toBe(false);
  });
});

describe('If-Match', () => {
  it('passes for the current version as a strong tag, in a list, or "*"', () => {
    for (const field of ['"4"', '"1", "4"', '4', '*']) {
      expect(() => requireMatch(readCondition('if-match', field)!, 4)).not.toThrow();
    }
  });

  it('fails with 412 for a weak tag of the current version or another version', () => {
    for (const field of ['W/"4"', '"3"', '"3", W/"4"']) {
      expect(() => requireMatch(readCondition('if-match', field)!, 4)).toThrow(
        expect.objectContaining({ status: 412, details: { current_version: 4 } }),
      );
    }
  });

  it('refuses an unreadable field with a 400 naming the header', () => {
    let thrown: unknown;
    try {
      readCondition('if-match', 'yesterday');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CtxvaultError);
    expect(thrown).toMatchObject({ status: 400, details: [{ path: 'header:if-match' }] });
  });
});
