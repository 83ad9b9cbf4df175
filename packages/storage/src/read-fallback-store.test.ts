import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from './blob-store.contract.ts';
import { BlobStoreError } from './errors/blob-store-error.ts';
import { LocalBlobStore } from './local/local-blob-store.ts';
import { readFallbackStore } from './read-fallback-store.ts';
import { S3BlobStore } from './s3/s3-blob-store.ts';

let base: string;
let primary: LocalBlobStore;
let replica: LocalBlobStore;
let refusedPort: number;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ctxvault-fallback-'));
  primary = new LocalBlobStore({ root: join(base, 'primary') });
  replica = new LocalBlobStore({ root: join(base, 'replica') });
  // a port nothing listens on: connections to it are refused
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  refusedPort = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
});
afterAll(() => rm(base, { recursive: true, force: true }));

/** An S3 store whose server is gone: every call fails with connection_refused. */
function unreachableS3(): S3BlobStore {
  return new S3BlobStore({
    region: 'us-east-1',
    bucket: 'gone',
    endpoint: `http://127.0.0.1:${refusedPort}`,
    forcePathStyle: true,
    serverSideEncryption: '',
    uploadPartSize: 5 * 1024 * 1024,
    downloadPartSize: 5 * 1024 * 1024,
    concurrency: 1,
    requestTimeoutMs: 2000,
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

describe('readFallbackStore', () => {
  it('answers from the primary while it can', async () => {
    await primary.put('a/one', Buffer.from('primary'));
    await replica.put('a/one', Buffer.from('replica'));
    const falls: string[] = [];
    const store = readFallbackStore(primary, replica, { onFallback: (op) => falls.push(op) });
    expect((await readAll(await store.get('a/one'))).toString()).toBe('primary');
    expect(falls).toEqual([]);
  });

  it('answers from the replica an object the primary lost, and a range of it', async () => {
    await replica.put('a/lost', Buffer.from('kept on the replica'));
    const falls: string[] = [];
    const store = readFallbackStore(primary, replica, { onFallback: (op) => falls.push(op) });
    expect((await readAll(await store.get('a/lost'))).toString()).toBe('kept on the replica');
    expect((await readAll(await store.get('a/lost', { start: 8, end: 10 }))).toString()).toBe('the');
    expect((await store.head('a/lost'))?.size).toBe(19);
    expect(falls).toEqual(['get', 'get', 'head']);
  });

  it('answers from the replica when the primary server is unreachable, and is ready while the replica is', async () => {
    const down = unreachableS3();
    await replica.put('a/two', Buffer.from('two'));
    const store = readFallbackStore(down, replica);
    expect((await readAll(await store.get('a/two'))).toString()).toBe('two');
    await expect(store.check()).resolves.toBeUndefined();
    await expect(down.check()).rejects.toMatchObject({ code: 'connection_refused' });
    await down.close();
  });

  it("fails with the primary's error when neither has the object, and never retries the caller's mistakes", async () => {
    const store = readFallbackStore(primary, replica);
    await expect(store.get('a/nowhere')).rejects.toMatchObject({ code: 'not_found' });
    await primary.put('a/short', Buffer.from('abc'));
    await replica.put('a/short', Buffer.from('abcdefgh'));
    const err = await store.get('a/short', { start: 5, end: 6 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobStoreError);
    expect((err as BlobStoreError).code).toBe('invalid_range');
  });

  it('writes to the primary only', async () => {
    const store = readFallbackStore(primary, replica);
    await store.put('a/written', Buffer.from('w'));
    expect(await primary.head('a/written')).not.toBeNull();
    expect(await replica.head('a/written')).toBeNull();
  });
});
