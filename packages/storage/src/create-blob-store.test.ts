import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createBlobStore } from './create-blob-store.ts';
import { LocalBlobStore } from './local/local-blob-store.ts';
import { S3BlobStore } from './s3/s3-blob-store.ts';
import type { S3BlobStoreOptions } from './s3/s3-options.ts';

const s3: S3BlobStoreOptions = {
  region: 'us-east-1',
  bucket: 'mcp-contexts',
  forcePathStyle: false,
  serverSideEncryption: '',
  uploadPartSize: 5 * 1024 * 1024,
  downloadPartSize: 5 * 1024 * 1024,
  concurrency: 5,
  requestTimeoutMs: 30_000,
  maxAttempts: 5,
};

describe('createBlobStore', () => {
  it('builds the store the type names', async () => {
    const local = createBlobStore({ type: 'local', local: { root: tmpdir() } });
    expect(local).toBeInstanceOf(LocalBlobStore);
    expect(local.kind).toBe('local');
    const remote = createBlobStore({ type: 's3', s3 });
    expect(remote).toBeInstanceOf(S3BlobStore);
    expect(remote.kind).toBe('s3');
    await remote.close();
  });

  it('refuses S3 options that could only fail later, naming them', () => {
    expect(() => createBlobStore({ type: 's3', s3: { ...s3, uploadPartSize: 1024 } })).toThrow(
      /uploadPartSize must be at least 5242880/,
    );
    expect(() => createBlobStore({ type: 's3', s3: { ...s3, concurrency: 0, bucket: '' } })).toThrow(
      /bucket is empty; concurrency/,
    );
  });
});
