import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BlobStoreError } from './errors/blob-store-error.ts';

export interface BodyMeterOptions {
  /** Fail the stream as soon as the body is known to have another length. */
  expectedLength?: number;
  onProgress?: (bytes: number) => void;
  /** Also compute the md5 of the body (the etag of a single-part object). */
  md5?: boolean;
}

/** A pass-through that counts (and optionally hashes) an upload body as it streams. */
export class BodyMeter extends Transform {
  bytes = 0;
  readonly #expectedLength: number | undefined;
  readonly #onProgress: ((bytes: number) => void) | undefined;
  readonly #hash: Hash | undefined;

  constructor({ expectedLength, onProgress, md5 = false }: BodyMeterOptions = {}) {
    super();
    this.#expectedLength = expectedLength;
    this.#onProgress = onProgress;
    this.#hash = md5 ? createHash('md5') : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.#expectedLength !== undefined && this.bytes > this.#expectedLength) {
      callback(lengthMismatch(this.#expectedLength, `more than ${this.#expectedLength}`));
      return;
    }
    this.#hash?.update(chunk);
    this.#onProgress?.(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const expected = this.#expectedLength;
    callback(expected !== undefined && this.bytes !== expected ? lengthMismatch(expected, String(this.bytes)) : null);
  }

  /** The md5 hex of everything that passed; only once the stream has ended. */
  md5Hex(): string {
    if (!this.#hash) throw new Error('BodyMeter was created without md5');
    return this.#hash.digest('hex');
  }
}

function lengthMismatch(expected: number, actual: string): BlobStoreError {
  return new BlobStoreError(
    'length_mismatch',
    `the body has ${actual} bytes where contentLength said ${expected}`,
    'the client sent fewer or more bytes than it announced; send the body again',
  );
}
