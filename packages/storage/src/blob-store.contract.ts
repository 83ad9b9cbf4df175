// The behaviour every BlobStore shares, run by each implementation's test file against a real store.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.ts';
import { BlobNotFoundError } from './errors/blob-not-found-error.ts';
import { BlobStoreError } from './errors/blob-store-error.ts';
import { InvalidKeyError } from './errors/invalid-key-error.ts';

export async function readAll(stream: Readable): Promise<Buffer> {
  return Buffer.concat((await stream.toArray()) as Buffer[]);
}

export function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** A body that yields `data` in chunks of `chunkSize` bytes, then fails if `failWith` is given. */
export function chunkedBody(data: Buffer, chunkSize: number, failWith?: Error): Readable {
  return Readable.from(
    (function* chunks() {
      for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
      if (failWith) throw failWith;
    })(),
  );
}

export function describeBlobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  describe(`${name}: BlobStore contract`, () => {
    let store: BlobStore;
    let ns: string;
    const keyOf = (suffix: string) => `${ns}${suffix}`;

    beforeAll(async () => {
      store = await open();
      ns = `contract-${randomUUID()}/`;
    });
    afterAll(async () => {
      await store.deletePrefix(ns);
      await store.close();
    });

    it('stores a buffer and streams it back, with an md5 etag like a single S3 PUT', async () => {
      const data = Buffer.from('{"content":[{"role":"user","content":"hi"}]}');
      const result = await store.put(keyOf('small.json'), data, { contentType: 'application/json' });
      expect(result).toMatchObject({ key: keyOf('small.json'), etag: md5Hex(data), size: data.length, parts: 1 });
      expect(await readAll(await store.get(keyOf('small.json')))).toEqual(data);
    });

    it('stores a stream of many chunks byte for byte and reports progress up to its size', async () => {
      const data = randomBytes(300_000);
      const progress: number[] = [];
      const result = await store.put(keyOf('stream.bin'), chunkedBody(data, 7_000), {
        contentLength: data.length,
        onProgress: (bytes) => progress.push(bytes),
      });
      expect(result.size).toBe(data.length);
      expect(progress.at(-1)).toBe(data.length);
      expect(await readAll(await store.get(keyOf('stream.bin')))).toEqual(data);
    });

    it('keeps user metadata and reports it from head', async () => {
      const data = Buffer.from('meta');
      await store.put(keyOf('meta.json'), data, { metadata: { 'context-id': 'abc', version: '3' } });
      const info = await store.head(keyOf('meta.json'));
      expect(info).toMatchObject({
        key: keyOf('meta.json'),
        size: 4,
        etag: md5Hex(data),
        metadata: { 'context-id': 'abc', version: '3' },
      });
      expect(info?.lastModified).toBeInstanceOf(Date);
    });

    it('stores an empty body', async () => {
      await store.put(keyOf('empty'), Buffer.alloc(0));
      expect((await store.head(keyOf('empty')))?.size).toBe(0);
      expect(await readAll(await store.get(keyOf('empty')))).toEqual(Buffer.alloc(0));
    });

    it('replaces an object written twice under one key', async () => {
      await store.put(keyOf('twice'), Buffer.from('first'));
      await store.put(keyOf('twice'), Buffer.from('second'));
      expect((await readAll(await store.get(keyOf('twice')))).toString()).toBe('second');
    });

    it('answers a byte range, clamping an end past the object and refusing a start past it', async () => {
      const data = randomBytes(10_000);
      await store.put(keyOf('ranged.bin'), data);
      expect(await readAll(await store.get(keyOf('ranged.bin'), { start: 100, end: 199 }))).toEqual(
        data.subarray(100, 200),
      );
      expect(await readAll(await store.get(keyOf('ranged.bin'), { start: 9_990, end: 20_000 }))).toEqual(
        data.subarray(9_990),
      );
      await expect(store.get(keyOf('ranged.bin'), { start: 10_000, end: 10_010 })).rejects.toMatchObject({
        code: 'invalid_range',
      });
      await expect(store.get(keyOf('ranged.bin'), { start: 5, end: 4 })).rejects.toMatchObject({
        code: 'invalid_range',
      });
    });

    it('answers null from head and BlobNotFoundError from get for a missing key', async () => {
      expect(await store.head(keyOf('missing'))).toBeNull();
      const error = await store.get(keyOf('missing')).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(BlobNotFoundError);
      expect(error).toMatchObject({ code: 'not_found', key: keyOf('missing') });
    });

    it('deletes, and deleting a missing key is fine', async () => {
      await store.put(keyOf('doomed'), Buffer.from('x'));
      await store.delete(keyOf('doomed'));
      expect(await store.head(keyOf('doomed'))).toBeNull();
      await store.delete(keyOf('doomed'));
    });

    it('lists and deletes by prefix, leaving other keys alone', async () => {
      const sizes: Record<string, number> = { 'p/ab/1.json': 1, 'p/ab/2.json': 2, 'p/abc/1.json': 3, 'p/b/1.json': 4 };
      for (const [suffix, size] of Object.entries(sizes)) await store.put(keyOf(suffix), randomBytes(size));

      const listed = await Array.fromAsync(store.list(keyOf('p/ab/')));
      expect(listed.map((info) => [info.key, info.size]).sort()).toEqual([
        [keyOf('p/ab/1.json'), 1],
        [keyOf('p/ab/2.json'), 2],
      ]);
      expect(listed.every((info) => info.etag.length > 0)).toBe(true);
      // A prefix need not end at a "/".
      expect((await Array.fromAsync(store.list(keyOf('p/ab')))).map((info) => info.key).sort()).toEqual([
        keyOf('p/ab/1.json'),
        keyOf('p/ab/2.json'),
        keyOf('p/abc/1.json'),
      ]);

      expect(await store.deletePrefix(keyOf('p/ab/'))).toBe(2);
      expect(await Array.fromAsync(store.list(keyOf('p/ab/')))).toEqual([]);
      expect((await Array.fromAsync(store.list(keyOf('p/')))).map((info) => info.key).sort()).toEqual([
        keyOf('p/abc/1.json'),
        keyOf('p/b/1.json'),
      ]);
      expect(await store.deletePrefix(keyOf('nothing-here/'))).toBe(0);
    });

    it('refuses a body whose length differs from contentLength, storing nothing', async () => {
      for (const contentLength of [999, 1_001]) {
        const error = await store
          .put(keyOf('wrong-length'), chunkedBody(randomBytes(1_000), 100), { contentLength })
          .catch((err: unknown) => err);
        expect(error).toMatchObject({ code: 'length_mismatch' });
      }
      expect(await store.head(keyOf('wrong-length'))).toBeNull();
    });

    it("rejects with the body stream's own error when it fails, storing nothing", async () => {
      const failure = new Error('client went away');
      await expect(store.put(keyOf('broken'), chunkedBody(randomBytes(50_000), 10_000, failure))).rejects.toBe(failure);
      expect(await store.head(keyOf('broken'))).toBeNull();
    });

    it('stores nothing when the signal aborts', async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await store
        .put(keyOf('aborted'), Buffer.from('x'), { signal: controller.signal })
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(BlobStoreError);
      expect(error).toMatchObject({ code: 'aborted' });
      expect(await store.head(keyOf('aborted'))).toBeNull();
    });

    it.each(['', '/etc/passwd', '../escape', 'a/../../x', 'a//b', 'a/./b', 'a\\b', 'nul\0byte', 'trailing/'])(
      'refuses the key %j everywhere',
      async (key) => {
        await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
      },
    );

    it('passes check() and closes twice', async () => {
      await store.check();
      const another = await open();
      await another.close();
      await another.close();
    });
  });
}
