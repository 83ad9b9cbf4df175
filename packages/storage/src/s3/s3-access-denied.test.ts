// Access denied by a real S3 server, wherever the tests run (as root too, unlike a read-only
// directory): a moto server of this file's own with authentication on from the first request, so
// credentials it never issued are refused as S3 refuses them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMoto } from '../../../../test/helpers/moto.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';
import { S3BlobStore } from './s3-blob-store.ts';

const MiB = 1024 * 1024;
let moto: MotoServer;
let store: S3BlobStore;

beforeAll(async () => {
  moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: '0' } });
  store = new S3BlobStore({
    region: 'us-east-1',
    bucket: 'ctxvault-denied',
    endpoint: moto.endpoint,
    forcePathStyle: true,
    serverSideEncryption: '',
    uploadPartSize: 5 * MiB,
    downloadPartSize: 5 * MiB,
    concurrency: 1,
    requestTimeoutMs: 10_000,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIANOTISSUEDBYMOTO1', secretAccessKey: 'not-a-secret-moto-knows' },
  });
});
afterAll(async () => {
  await store?.close();
  await moto?.stop();
});

describe('S3 with credentials the server refuses', () => {
  it('fails check() with access_denied and a hint about credentials', async () => {
    const error = await store.check().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect(error).toMatchObject({ code: 'access_denied' });
    expect((error as BlobStoreError).hint).toMatch(/credential|AWS_ACCESS_KEY_ID|permission/i);
  });

  it('fails a write with access_denied', async () => {
    await expect(store.put('contexts/denied.json', Buffer.from('{}'))).rejects.toMatchObject({ code: 'access_denied' });
  });
});
