import { BlobStoreError } from './blob-store-error.ts';

/** A key (or prefix, or context id) that could reach outside its place or is not portable between stores. */
export class InvalidKeyError extends BlobStoreError {
  override name = 'InvalidKeyError';
  readonly key: string;

  constructor(key: string, reason: string) {
    super(
      'invalid_key',
      `invalid key ${JSON.stringify(key)}: ${reason}`,
      'keys are relative "/"-separated paths without "." or ".." segments',
    );
    this.key = key;
  }
}
