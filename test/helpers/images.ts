// Images for the end-to-end suites and the bench: real PNG headers (the size ctxvault reads).
import { randomBytes } from 'node:crypto';
import { pngOf } from '../../packages/core/src/counting/test-images.ts';

/**
 * A PNG of `width` × `height` whose one IDAT chunk is `bytes` of random data: a real header and
 * chunk structure (CRCs included), random pixels — the worst case for a tokenizer reading it as text.
 */
export function randomPng(width: number, height: number, bytes: number): Buffer {
  return pngOf(width, height, randomBytes(bytes));
}
