import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from './errors/invalid-key-error.ts';
import { contextPrefix, objectKey, parseObjectKey } from './keys.ts';

const id = '0197a3c2-7d1e-7b3a-9c4f-2e8d6a1b5c90';
const shard = createHash('sha256').update(id).digest('hex').slice(0, 2);

describe('objectKey', () => {
  it('spreads ids over two hex characters of their sha256', () => {
    expect(objectKey('contexts', id, 3)).toBe(`contexts/${shard}/${id}/3.json`);
    expect(objectKey('contexts', id, 3, 'zst')).toBe(`contexts/${shard}/${id}/3.json.zst`);
  });

  it('accepts nested, slash-terminated and empty prefixes', () => {
    expect(objectKey('a/b', id, 1)).toBe(`a/b/${shard}/${id}/1.json`);
    expect(objectKey('a/b/', id, 1)).toBe(`a/b/${shard}/${id}/1.json`);
    expect(objectKey('', id, 1)).toBe(`${shard}/${id}/1.json`);
  });

  it('writes ids in lower case so one context has one place', () => {
    expect(objectKey('contexts', id.toUpperCase(), 1)).toBe(objectKey('contexts', id, 1));
  });

  it('lives below contextPrefix, which holds every version', () => {
    expect(contextPrefix('contexts', id)).toBe(`contexts/${shard}/${id}/`);
    expect(objectKey('contexts', id, 7, 'gz').startsWith(contextPrefix('contexts', id))).toBe(true);
  });

  it.each(['', 'not-a-uuid', '../../etc/passwd', `${id}/x`, `${id}/..`, '0197a3c2-7d1e-7b3a-9c4f-2e8d6a1b5c9'])(
    'refuses the id %j',
    (badId) => {
      expect(() => objectKey('contexts', badId, 1)).toThrow(InvalidKeyError);
      expect(() => contextPrefix('contexts', badId)).toThrow(InvalidKeyError);
    },
  );

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])('refuses the version %d', (version) => {
    expect(() => objectKey('contexts', id, version)).toThrow(InvalidKeyError);
  });

  it.each(['', 'GZ', 'g/z', '../x'])('refuses the codec %j', (codec) => {
    expect(() => objectKey('contexts', id, 1, codec)).toThrow(InvalidKeyError);
  });

  it.each(['/contexts', '../contexts', 'a//b'])('refuses the prefix %j', (prefix) => {
    expect(() => objectKey(prefix, id, 1)).toThrow(InvalidKeyError);
  });
});

describe('parseObjectKey', () => {
  it.each([
    ['contexts', 1, undefined],
    ['contexts', 42, 'gz'],
    ['tenant/a/contexts', 0, 'zst'],
    ['', 9, undefined],
  ])('inverts objectKey(%j, id, %d, %j)', (prefix, version, codec) => {
    const parsed = parseObjectKey(objectKey(prefix, id, version, codec));
    expect(parsed).toEqual(codec === undefined ? { prefix, id, version } : { prefix, id, version, codec });
  });

  it.each([
    `contexts/zz/${id}/1.json`, // wrong shard
    `contexts/${shard}/${id}/1.txt`,
    `contexts/${shard}/${id}/01.json`,
    `contexts/${shard}/${id}/1.json.GZ`,
    `contexts/${shard}/not-a-uuid/1.json`,
    'contexts/readme.md',
  ])('answers null for %j, which objectKey never makes', (key) => {
    expect(parseObjectKey(key)).toBeNull();
  });
});
