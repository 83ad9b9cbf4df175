import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../errors/invalid-key-error.ts';
import { resolveKeyPath } from './resolve-key-path.ts';

const root = '/srv/blobs';

describe('resolveKeyPath', () => {
  it('maps a key to a file under the root', () => {
    expect(resolveKeyPath(root, 'contexts/ab/id/1.json')).toBe('/srv/blobs/contexts/ab/id/1.json');
    expect(resolveKeyPath('relative/root', 'a/b')).toBe(join(resolve('relative/root'), 'a/b'));
  });

  it.each([
    ['../../etc/passwd', 'a ".." segment'],
    ['a/../../x', 'a ".." segment'],
    ['a/..', 'a ".." segment'],
    ['/etc/passwd', 'an absolute key'],
    ['', 'an empty key'],
    ['a\\..\\..\\x', 'a backslash'],
    ['a/\0/b', 'NUL'],
    ['a//b', 'an empty segment'],
    ['./a', 'a "." segment'],
    ['a/b.meta.json', 'a sidecar name'],
    ['a/.ctxvault-tmp-123', 'a temporary-file name'],
  ])('refuses %j (%s)', (key) => {
    expect(() => resolveKeyPath(root, key)).toThrow(InvalidKeyError);
  });

  it('treats %2e%2e as a literal name that stays inside the root', () => {
    expect(resolveKeyPath(root, '%2e%2e/%2e%2e/etc/passwd')).toBe('/srv/blobs/%2e%2e/%2e%2e/etc/passwd');
  });

  it('keeps names that merely contain dots', () => {
    expect(resolveKeyPath(root, '..a/b..')).toBe('/srv/blobs/..a/b..');
  });
});
