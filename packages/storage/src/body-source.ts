import { Readable } from 'node:stream';

export interface BodySource {
  stream: Readable;
  /** Whether `err` is the body stream's own failure (a client gone, a staging read failing). */
  failedWith(err: unknown): boolean;
}

/** A put body as a stream, remembering the first error the stream itself reported. */
export function bodySource(body: Readable | Buffer): BodySource {
  const stream = Buffer.isBuffer(body) ? Readable.from([body]) : body;
  let firstError: unknown;
  stream.once('error', (err) => {
    firstError ??= err;
  });
  return { stream, failedWith: (err) => err !== undefined && err === firstError };
}
