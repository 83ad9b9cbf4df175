import { BlobStoreError } from './blob-store-error.ts';

export class BlobNotFoundError extends BlobStoreError {
  override name = 'BlobNotFoundError';
  readonly key: string;

  constructor(key: string, options?: { cause?: unknown }) {
    super('not_found', `no object at "${key}"`, 'the object was deleted or never written', options);
    this.key = key;
  }
}
