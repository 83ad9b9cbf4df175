/**
 * A sealed body that does not open: tampered with, cut off, or opened with the wrong data key (or a
 * data key that no configured master key unwraps). Never a reason to serve the bytes.
 */
export class UnsealError extends Error {
  override name = 'UnsealError';
}
