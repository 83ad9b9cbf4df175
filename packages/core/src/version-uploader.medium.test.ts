// The upload job of a version a replace superseded before the job ran, on real parts: skipped, its
// version collected at once, unless a version the lifecycle keeps (lifecycle.keep_versions,
// keep_for, the current one after a restore) still needs its segment. The settings of
// core-services.ts store bodies from 1 KiB up as objects.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BlobStore, IncompleteUploadTracking } from '@ctxvault/storage';
import { describe, expect, it } from 'vitest';
import { blobStoreWith, useCoreParts } from '../../../test/helpers/core-services.ts';
import { openMultipartUpload } from '../../../test/helpers/s3.ts';
import type { ContextService } from './context-service.ts';
import { GoneError } from './errors/index.ts';
import { rawItems } from './raw-items.ts';
import { type ContextItem, createContextSchema } from './schemas.ts';
import { objectKeyOf } from './segment-objects.ts';

const parts = useCoreParts();
const T = 'default';

const items = (n: number): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({ role: 'user', content: `item ${i} ${'x'.repeat(200)}` }));

/** A context whose version 1 is still staged (its upload not run yet) when version 2 replaces it. */
async function supersededWhileStaged(service: ContextService): Promise<string> {
  const input = createContextSchema.parse({ agent_id: 'uploads', content: items(20) });
  const created = await service.create(T, { ...input, content: rawItems(input.content) });
  if (created.state !== 'pending') throw new Error('expected a staged create');
  await service.replace(T, created.id, { content: rawItems([{ role: 'user', content: 'replaced' }]) });
  return created.id;
}

async function itemCount(service: ContextService, id: string, version?: number): Promise<number> {
  const text = (await buffer(Readable.from((await service.get(T, id, version)).body))).toString();
  return JSON.parse(text).content.length;
}

describe('the upload of a superseded version', () => {
  it('is skipped when no kept version needs its segment, and the version is collected at once', async () => {
    const service = parts.service();
    const id = await supersededWhileStaged(service);
    expect(await parts.uploader().store(id, 1, () => {})).toBe('superseded');
    await expect(service.get(T, id, 1)).rejects.toBeInstanceOf(GoneError);
    await expect(service.restore(T, id, 1)).rejects.toBeInstanceOf(GoneError);
    const { items: versions } = await service.versions(T, id, { limit: 10 });
    expect(versions.map((v) => [v.version, v.state])).toEqual([
      [2, 'kept'],
      [1, 'collected'],
    ]);
    expect(versions[1]).toMatchObject({ message_count: 20, segments: 0 });
    expect((await parts.bucket.keys()).filter((k) => k.includes(id))).toEqual([]);
    expect(await parts.staging.exists(id, 1)).toBe(false);
  });

  it('stores it while keep_versions keeps its version', async () => {
    const service = parts.service();
    const id = await supersededWhileStaged(service);
    expect(await parts.uploader(undefined, { keepVersions: 1 }).store(id, 1, () => {})).toBe('stored');
    expect(await itemCount(service, id, 1)).toBe(20);
  });

  it('stores it while keep_for keeps its version', async () => {
    const service = parts.service();
    const id = await supersededWhileStaged(service);
    expect(await parts.uploader(undefined, { keepForMs: 3_600_000 }).store(id, 1, () => {})).toBe('stored');
    expect(await itemCount(service, id, 1)).toBe(20);
  });

  it('stores it once a restore made its version current again', async () => {
    const service = parts.service();
    const id = await supersededWhileStaged(service);
    const restored = await service.restore(T, id, 1);
    expect(restored).toMatchObject({ state: 'pending', version: 3 });
    expect(await parts.uploader().store(id, 1, () => {})).toBe('stored');
    expect(await itemCount(service, id)).toBe(20);
  });

  it('stores it while a kept restore of it needs its segment, though its own version is not kept', async () => {
    const service = parts.service();
    const id = await supersededWhileStaged(service);
    await service.restore(T, id, 1);
    await service.replace(T, id, { content: rawItems([{ role: 'user', content: 'again' }]) });
    // version 3 (the restore) is the newest superseded one: kept; version 1 is not
    expect(await parts.uploader(undefined, { keepVersions: 1 }).store(id, 1, () => {})).toBe('stored');
    expect(await itemCount(service, id, 3)).toBe(20);
    expect(await itemCount(service, id, 1)).toBe(20);
  });
});

describe('the upload of a staged segment', () => {
  /** The store, recording the keys it was asked for incomplete uploads of. */
  const listing = () => {
    const store = parts.blobs as BlobStore & IncompleteUploadTracking;
    const listed: string[] = [];
    const overrides: Partial<BlobStore & IncompleteUploadTracking> = {
      listIncompleteUploads: (prefix) => {
        listed.push(prefix);
        return store.listIncompleteUploads(prefix);
      },
    };
    return { blobs: blobStoreWith(store, overrides), listed };
  };

  const staged = async (n: number) => {
    const service = parts.service();
    const input = createContextSchema.parse({ agent_id: 'uploads', content: items(n) });
    const created = await service.create(T, { ...input, content: rawItems(input.content) });
    if (created.state !== 'pending') throw new Error('expected a staged create');
    const seg = await parts.segments.findWrite(created.id, 1);
    return { id: created.id, key: objectKeyOf(parts.settings, seg!) };
  };

  it('asks for no incomplete upload of an object smaller than a part (one PUT never leaves one)', async () => {
    const { id, key } = await staged(20);
    const { blobs, listed } = listing();
    expect(await parts.uploader(blobs).store(id, 1, () => {})).toBe('stored');
    expect(listed).not.toContain(key);
    expect(await itemCount(parts.service(), id)).toBe(20);
  });

  it("aborts a predecessor's incomplete upload of an object that may go in parts", async () => {
    // 5 MiB parts (core-services.ts): about 6 MiB of items
    const { id, key } = await staged(28_000);
    await openMultipartUpload(parts.bucket, key);
    const { blobs, listed } = listing();
    expect(await parts.uploader(blobs).store(id, 1, () => {})).toBe('stored');
    expect(listed).toContain(key);
    const store = parts.blobs as BlobStore & IncompleteUploadTracking;
    expect(await Array.fromAsync(store.listIncompleteUploads(key))).toEqual([]);
    expect(await itemCount(parts.service(), id)).toBe(28_000);
  });
});
