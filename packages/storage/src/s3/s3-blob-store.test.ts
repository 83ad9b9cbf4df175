import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  type GetObjectCommandInput,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { chunkedBody, describeBlobStoreContract, readAll } from '../blob-store.contract.ts';
import { BlobNotFoundError } from '../errors/blob-not-found-error.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import type { S3BlobStoreOptions } from './s3-options.ts';

const MiB = 1024 * 1024;
const endpoint = inject('s3Endpoint');
const bucket = `ctxvault-storage-${randomUUID()}`;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const admin = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });

function storeOptions(overrides: Partial<S3BlobStoreOptions> = {}): S3BlobStoreOptions {
  return {
    region: 'us-east-1',
    bucket,
    endpoint,
    forcePathStyle: true,
    serverSideEncryption: 'AES256',
    uploadPartSize: 5 * MiB,
    downloadPartSize: 5 * MiB,
    concurrency: 3,
    requestTimeoutMs: 30_000,
    maxAttempts: 3,
    credentials,
    ...overrides,
  };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Every GetObject the store sends, as its input (Range, IfMatch). */
function spyOnGets() {
  const spy = vi.spyOn(S3Client.prototype, 'send');
  return () =>
    spy.mock.calls
      .map(([command]) => command)
      .filter((command) => command instanceof GetObjectCommand)
      .map((command) => command.input as GetObjectCommandInput);
}

async function incompleteUploads(prefix: string) {
  return (await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads ?? [];
}

beforeAll(async () => {
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  const cleaner = new S3BlobStore(storeOptions());
  await cleaner.deletePrefix('');
  for await (const upload of cleaner.listIncompleteUploads(''))
    await cleaner.abortIncompleteUpload(upload.key, upload.uploadId);
  await cleaner.close();
  await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
  admin.destroy();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describeBlobStoreContract('S3BlobStore', async () => new S3BlobStore(storeOptions()));

describe('S3BlobStore against an S3 server', () => {
  let store: S3BlobStore;
  beforeAll(() => {
    store = new S3BlobStore(storeOptions());
  });
  afterAll(() => store.close());

  it('uploads 12 MiB in three encrypted parts with metadata and reads it back through parallel ranged GETs', async () => {
    const data = randomBytes(12 * MiB);
    const progress: number[] = [];
    const result = await store.put('big/12mib.bin', chunkedBody(data, 256 * 1024), {
      metadata: { 'context-id': 'big', sha256: sha256(data) },
      onProgress: (bytes) => progress.push(bytes),
    });
    expect(result).toMatchObject({ key: 'big/12mib.bin', size: 12 * MiB, parts: 3, encryption: 'AES256' });
    expect(result.etag).toMatch(/^[0-9a-f]{32}-3$/);
    expect(progress.at(-1)).toBe(12 * MiB);

    const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/12mib.bin' }));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.Metadata).toEqual({ 'context-id': 'big', sha256: sha256(data) });
    expect(head.ETag).toBe(`"${result.etag}"`);

    const gets = spyOnGets();
    const reader = new S3BlobStore(storeOptions({ downloadPartSize: 2 * MiB }));
    expect(sha256(await readAll(await reader.get('big/12mib.bin')))).toBe(sha256(data));
    await reader.close();
    const ranges = gets().map((input) => input.Range);
    expect(ranges).toHaveLength(6);
    expect(ranges.toSorted()).toEqual([
      'bytes=0-2097151',
      'bytes=10485760-12582911',
      'bytes=2097152-4194303',
      'bytes=4194304-6291455',
      'bytes=6291456-8388607',
      'bytes=8388608-10485759',
    ]);
    // Every part after the first is pinned to the version the first one saw.
    expect(
      gets()
        .slice(1)
        .every((input) => input.IfMatch === head.ETag),
    ).toBe(true);

    const slice = await readAll(await store.get('big/12mib.bin', { start: 5 * MiB - 10, end: 10 * MiB + 9 }));
    expect(sha256(slice)).toBe(sha256(data.subarray(5 * MiB - 10, 10 * MiB + 10)));
  });

  it('encrypts single and multipart uploads with the configured KMS key', async () => {
    const kms = new S3BlobStore(storeOptions({ serverSideEncryption: 'aws:kms', kmsKeyId: 'ctxvault-test-key' }));
    for (const [key, size] of [
      ['kms/small.bin', 10],
      ['kms/multipart.bin', 6 * MiB],
    ] as const) {
      const result = await kms.put(key, randomBytes(size));
      expect(result.encryption).toBe('aws:kms');
      const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', 'ctxvault-test-key']);
    }
    await kms.close();
  });

  it('asks for no encryption when none is configured', async () => {
    const plain = new S3BlobStore(storeOptions({ serverSideEncryption: '' }));
    expect((await plain.put('plain/x.bin', Buffer.from('x'))).encryption).toBeNull();
    expect((await plain.head('plain/x.bin'))?.encryption).toBeNull();
    await plain.close();
  });

  it('reads a small object with one GET streamed through', async () => {
    const data = randomBytes(1_000);
    await store.put('small/one.bin', data);
    const gets = spyOnGets();
    expect(await readAll(await store.get('small/one.bin'))).toEqual(data);
    expect(gets()).toHaveLength(1);
  });

  it('stops fetching parts for a consumer that does not read, and aborts them when it gives up', async () => {
    await store.put('slow/reader.bin', randomBytes(12 * MiB));
    const reader = new S3BlobStore(storeOptions({ downloadPartSize: MiB, concurrency: 2 }));
    const gets = spyOnGets();
    const stream = await reader.get('slow/reader.bin');
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await sleep(500);
    const fetched = gets().length;
    expect(fetched).toBeLessThanOrEqual(5);
    await iterator.return?.();
    await sleep(200);
    expect(gets().length).toBe(fetched);
    await reader.close();
  });

  it('aborts the multipart upload when the body fails midway', async () => {
    const send = vi.spyOn(S3Client.prototype, 'send');
    const failure = new Error('client disconnected');
    await expect(store.put('failed/upload.bin', chunkedBody(randomBytes(11 * MiB), MiB, failure))).rejects.toBe(
      failure,
    );
    const sent = send.mock.calls.map(([command]) => command.constructor.name);
    expect(sent).toContain('CreateMultipartUploadCommand');
    expect(sent).toContain('UploadPartCommand');
    expect(sent).toContain('AbortMultipartUploadCommand');
    expect(sent).not.toContain('CompleteMultipartUploadCommand');
    expect(await store.head('failed/upload.bin')).toBeNull();
    expect(await incompleteUploads('failed/')).toEqual([]);
  });

  it('aborts the multipart upload when the signal aborts midway', async () => {
    const controller = new AbortController();
    const data = randomBytes(12 * MiB);
    const body = Readable.from(
      (function* chunks() {
        for (let offset = 0; offset < data.length; offset += MiB) {
          if (offset === 8 * MiB) controller.abort();
          yield data.subarray(offset, offset + MiB);
        }
      })(),
    );
    const send = vi.spyOn(S3Client.prototype, 'send');
    await expect(store.put('aborted/upload.bin', body, { signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
    const sent = send.mock.calls.map(([command]) => command.constructor.name);
    expect(sent).toEqual(expect.arrayContaining(['CreateMultipartUploadCommand', 'AbortMultipartUploadCommand']));
    expect(await store.head('aborted/upload.bin')).toBeNull();
    expect(await incompleteUploads('aborted/')).toEqual([]);
  });

  it('lists and aborts incomplete multipart uploads', async () => {
    const { UploadId } = await admin.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'stale/upload.bin' }),
    );
    const found = await Array.fromAsync(store.listIncompleteUploads('stale/'));
    expect(found).toEqual([{ key: 'stale/upload.bin', uploadId: UploadId, initiated: expect.any(Date) }]);
    await store.abortIncompleteUpload('stale/upload.bin', UploadId!);
    expect(await Array.fromAsync(store.listIncompleteUploads('stale/'))).toEqual([]);
    await store.abortIncompleteUpload('stale/upload.bin', UploadId!);
  });

  it('pages through more than one listing page when deleting by prefix', async () => {
    const keys = Array.from({ length: 1_005 }, (_, index) => `many/${String(index).padStart(4, '0')}`);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(keys.slice(start, start + 50).map((key) => store.put(key, Buffer.from(key))));
    }
    expect(await store.deletePrefix('many/')).toBe(1_005);
    expect(await Array.fromAsync(store.list('many/'))).toEqual([]);
  });

  it('reports a missing bucket with a hint naming it', async () => {
    const missingBucket = `missing-${randomUUID()}`;
    const missing = new S3BlobStore(storeOptions({ bucket: missingBucket }));
    const error = await missing.check().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect(error).toMatchObject({
      code: 'no_such_bucket',
      hint: `create bucket ${missingBucket} or fix storage.s3.bucket (MCP_STORAGE_S3_BUCKET)`,
    });
    await expect(missing.get('any')).rejects.toMatchObject({ code: 'no_such_bucket' });
    await missing.close();
  });

  it('reports an endpoint nobody listens on as connection_refused with a hint', async () => {
    const unreachable = new S3BlobStore(storeOptions({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }));
    const error = await unreachable.check().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect(error).toMatchObject({
      code: 'connection_refused',
      hint: 'check storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) and that the S3 server is running',
    });
    await unreachable.close();
  });

  it('gives up on a server that accepts connections but never answers after requestTimeoutMs', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const stuck = new S3BlobStore(
      storeOptions({ endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 300, maxAttempts: 1 }),
    );
    await expect(stuck.check()).rejects.toMatchObject({ code: 'timeout' });
    await stuck.close();
    silent.close();
  });

  it('answers BlobNotFoundError for a missing object', async () => {
    await expect(store.get('nothing/here')).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});
