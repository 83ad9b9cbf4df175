import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkedBody, describeBlobStoreContract, md5Hex, readAll } from '../blob-store.contract.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';
import { InvalidKeyError } from '../errors/invalid-key-error.ts';
import { LocalBlobStore } from './local-blob-store.ts';

const base = await mkdtemp(join(tmpdir(), 'ctxvault-local-'));
afterAll(() => rm(base, { recursive: true, force: true }));

let stores = 0;
function freshRoot(): string {
  stores += 1;
  return join(base, `root-${stores}`);
}

describeBlobStoreContract('LocalBlobStore', async () => new LocalBlobStore({ root: freshRoot() }));

async function allFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('LocalBlobStore on disk', () => {
  it('keeps the data file and a metadata sidecar, and no temporary files', async () => {
    const root = freshRoot();
    const store = new LocalBlobStore({ root });
    const data = Buffer.from('hello');
    await store.put('ctx/1.json', data, { metadata: { version: '1' } });
    expect(await allFiles(root)).toEqual(['ctx/1.json', 'ctx/1.json.meta.json']);
    expect(await readFile(join(root, 'ctx/1.json'))).toEqual(data);
    expect(JSON.parse(await readFile(join(root, 'ctx/1.json.meta.json'), 'utf8'))).toEqual({
      etag: md5Hex(data),
      size: 5,
      metadata: { version: '1' },
    });
    expect((await Array.fromAsync(store.list(''))).map((info) => info.key)).toEqual(['ctx/1.json']);
  });

  it('leaves no temporary file behind when a write fails', async () => {
    const root = freshRoot();
    const store = new LocalBlobStore({ root });
    await store.put('ctx/keep.json', Buffer.from('kept'));
    await expect(
      store.put('ctx/broken.json', chunkedBody(randomBytes(10_000), 1_000, new Error('boom'))),
    ).rejects.toThrow();
    expect(await allFiles(root)).toEqual(['ctx/keep.json', 'ctx/keep.json.meta.json']);
  });

  it('lets a reader finish the old body while the object is replaced', async () => {
    const store = new LocalBlobStore({ root: freshRoot() });
    const before = randomBytes(200_000);
    await store.put('swap.bin', before);
    const reading = await store.get('swap.bin');
    await store.put('swap.bin', randomBytes(200_000));
    expect(await readAll(reading)).toEqual(before);
  });

  it('hashes a file that has no sidecar (copied in by hand)', async () => {
    const root = freshRoot();
    const store = new LocalBlobStore({ root });
    await mkdir(join(root, 'manual'), { recursive: true });
    await writeFile(join(root, 'manual/x.json'), 'by hand');
    expect(await store.head('manual/x.json')).toMatchObject({
      size: 7,
      etag: md5Hex(Buffer.from('by hand')),
      metadata: {},
    });
  });

  it('removes directories left empty by deletes, but never the root', async () => {
    const root = freshRoot();
    const store = new LocalBlobStore({ root });
    await store.put('contexts/ab/one/1.json', Buffer.from('1'));
    await store.put('contexts/ab/two/1.json', Buffer.from('2'));
    await store.delete('contexts/ab/one/1.json');
    expect(existsSync(join(root, 'contexts/ab/one'))).toBe(false);
    expect(existsSync(join(root, 'contexts/ab/two'))).toBe(true);
    expect(await store.deletePrefix('contexts/')).toBe(1);
    expect(await readdir(root)).toEqual([]);
  });

  it('keeps %2e%2e keys as literal names inside the root', async () => {
    const root = freshRoot();
    const store = new LocalBlobStore({ root });
    await store.put('%2e%2e/%2e%2e/passwd', Buffer.from('x'));
    expect(existsSync(join(root, '%2e%2e/%2e%2e/passwd'))).toBe(true);
  });

  it('refuses keys that collide with its own bookkeeping files', async () => {
    const store = new LocalBlobStore({ root: freshRoot() });
    await expect(store.put('a.json.meta.json', Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put('.ctxvault-tmp-1', Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('treats a key that is only a folder of other keys as absent', async () => {
    const root = freshRoot();
    const store = new LocalBlobStore({ root });
    await store.put('folder/child', Buffer.from('x'));
    expect(await store.head('folder')).toBeNull();
    await expect(store.get('folder')).rejects.toMatchObject({ code: 'not_found' });
    await store.delete('folder');
    await expect(store.put('folder/child/grandchild', Buffer.from('y'))).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put('folder', Buffer.from('y'))).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await allFiles(root)).toEqual(['folder/child', 'folder/child.meta.json']);
  });

  it('creates a missing root on check()', async () => {
    const root = join(freshRoot(), 'deeper');
    await new LocalBlobStore({ root }).check();
    expect(await readdir(root)).toEqual([]);
  });

  it('fails check() with a hint naming the directory when the root cannot be a directory', async () => {
    const root = freshRoot();
    await writeFile(root, 'a file, not a directory');
    const error = await new LocalBlobStore({ root }).check().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect((error as BlobStoreError).hint).toContain(root);
  });

  it.skipIf(process.getuid?.() === 0)('fails check() with access_denied on a read-only root', async () => {
    const root = freshRoot();
    await mkdir(root, { mode: 0o500 });
    await expect(new LocalBlobStore({ root }).check()).rejects.toMatchObject({ code: 'access_denied' });
  });
});
