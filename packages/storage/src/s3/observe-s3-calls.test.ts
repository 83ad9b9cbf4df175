import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { S3Call } from './observe-s3-calls.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import type { S3BlobStoreOptions } from './s3-options.ts';

const endpoint = inject('s3Endpoint');
const bucket = `ctxvault-observe-${randomUUID()}`;
const credentials = { accessKeyId: 'observe-key', secretAccessKey: 'observe-secret-81f3' };
const admin = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });

function observedStore(overrides: Partial<S3BlobStoreOptions> = {}) {
  const calls: S3Call[] = [];
  const lines: string[] = [];
  const store = new S3BlobStore({
    region: 'us-east-1',
    bucket,
    endpoint,
    forcePathStyle: true,
    serverSideEncryption: '',
    uploadPartSize: 5 * 1024 * 1024,
    downloadPartSize: 5 * 1024 * 1024,
    concurrency: 2,
    requestTimeoutMs: 5_000,
    maxAttempts: 1,
    credentials,
    observer: {
      logger: { debug: (obj, msg) => lines.push(JSON.stringify({ ...obj, msg })) },
      onCall: (call) => calls.push(call),
    },
    ...overrides,
  });
  return { store, calls, lines };
}

beforeAll(async () => {
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'observed/one.json' }));
  await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
  admin.destroy();
});

describe('the S3 call observer', () => {
  it('reports each call with operation, key, bytes, duration and attempts, and logs no secret', async () => {
    const { store, calls, lines } = observedStore();
    await store.put('observed/one.json', Buffer.alloc(1234, 'x'));
    const body = await store.get('observed/one.json');
    await body.toArray();
    await store.close();
    expect(calls[0]).toMatchObject({
      operation: 'PutObject',
      bucket,
      key: 'observed/one.json',
      bytes: 1234,
      attempts: 1,
      status: 200,
    });
    expect(calls[0]!.ms).toBeGreaterThanOrEqual(0);
    expect(calls[1]).toMatchObject({
      operation: 'GetObject',
      key: 'observed/one.json',
      bytes: 1234,
      attempts: 1,
      status: 206,
    });
    expect(lines[0]).toContain('"msg":"s3 PutObject"');
    for (const line of lines) {
      expect(line).not.toContain(credentials.secretAccessKey);
      expect(line).not.toContain(credentials.accessKeyId);
    }
  });

  it('names the error code of a failed call', async () => {
    const { store, calls, lines } = observedStore({ bucket: `missing-${randomUUID()}` });
    await expect(store.put('observed/two.json', Buffer.from('{}'))).rejects.toMatchObject({ code: 'no_such_bucket' });
    await store.close();
    expect(calls.at(-1)).toMatchObject({
      operation: 'PutObject',
      key: 'observed/two.json',
      error: 'NoSuchBucket',
      status: 404,
    });
    expect(lines.at(-1)).toContain('s3 PutObject failed: NoSuchBucket');
  });

  it('counts the attempts when the SDK retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { store, calls } = observedStore({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 3 });
    await expect(store.check()).rejects.toMatchObject({ code: 'connection_refused' });
    await store.close();
    expect(calls).toEqual([expect.objectContaining({ operation: 'HeadBucket', attempts: 3, error: 'ECONNREFUSED' })]);
  });
});
