import type { BlobStore } from './blob-store.ts';
import { LocalBlobStore, type LocalBlobStoreOptions } from './local/local-blob-store.ts';
import { S3BlobStore } from './s3/s3-blob-store.ts';
import type { S3BlobStoreOptions } from './s3/s3-options.ts';

export type BlobStoreOptions = { type: 'local'; local: LocalBlobStoreOptions } | { type: 's3'; s3: S3BlobStoreOptions };

export function createBlobStore(options: BlobStoreOptions): BlobStore {
  return options.type === 's3' ? new S3BlobStore(options.s3) : new LocalBlobStore(options.local);
}
