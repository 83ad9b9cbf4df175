import type { ByteRange } from './blob-store.ts';
import { BlobStoreError } from './errors/blob-store-error.ts';
import { InvalidKeyError } from './errors/invalid-key-error.ts';

// S3's limit; applied to every store so that a key valid in one is valid in all.
const MAX_KEY_BYTES = 1024;

/**
 * Keys are relative "/"-separated paths: no leading "/", no empty, "." or ".." segments, no
 * backslash or NUL. The same rules hold for every store, so a key can never name a path outside
 * the local root and means the same thing on disk and in a bucket.
 */
export function assertValidKey(key: string): void {
  if (key === '') throw new InvalidKeyError(key, 'it is empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new InvalidKeyError(key, `it is longer than ${MAX_KEY_BYTES} bytes`);
  if (key.includes('\0')) throw new InvalidKeyError(key, 'it contains NUL');
  if (key.includes('\\')) throw new InvalidKeyError(key, 'it contains a backslash');
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'it is absolute');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidKeyError(key, 'it has an empty segment');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `it has a "${segment}" segment`);
  }
}

/** A prefix is '' (everything), a key, or a key followed by "/". */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new BlobStoreError(
      'invalid_range',
      `invalid byte range ${start}-${end}`,
      'a range needs integers with 0 <= start <= end',
    );
  }
}
