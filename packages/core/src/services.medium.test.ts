// "Medium" tests: the core services on a real database (cloned from the run's template), a real
// moto bucket and a real Redis queue; a fake part only where a failure is needed on cue.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { ByteProgress } from '@ctxvault/queue';
import { objectKey } from '@ctxvault/storage';
import { describe, expect, it } from 'vitest';
import { blobStoreWith, useCoreParts } from '../../../test/helpers/core-services.ts';
import { ContextService } from './context-service.ts';
import { NotFoundError } from './errors/index.ts';
import { rawItems } from './raw-items.ts';
import { type ContextItem, createContextSchema, listQuerySchema } from './schemas.ts';
import { InlineTokenCounter } from './token-counter.ts';

const parts = useCoreParts();

/** Items whose document is well above the 1 KiB inline threshold, so they are staged and uploaded. */
const items = (n: number, tag = 'item'): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: `${tag} ${i} ${'x'.repeat(200)}`,
  }));

async function create(service: ContextService, content: ContextItem[], extra: Record<string, unknown> = {}) {
  const input = createContextSchema.parse({ agent_id: 'medium', content, ...extra });
  const result = await service.create('default', { ...input, content: rawItems(input.content) });
  if (result.state !== 'pending') throw new Error('expected a staged (pending) write');
  return result;
}

async function contentOf(service: ContextService, id: string): Promise<ContextItem[]> {
  const { body } = await service.get('default', id);
  return JSON.parse((await buffer(Readable.from(body))).toString()).content;
}

describe('ContextService and VersionUploader', () => {
  it('create, read from staging, upload, read from S3, append, delete and purge', async () => {
    const service = parts.service();
    const uploader = parts.uploader();
    const first = items(20);
    const created = await create(service, first);
    expect(created).toMatchObject({ version: 1, job_id: parts.jobs.uploadJobId(created.id, 1) });
    expect(await parts.jobs.getJob(created.job_id, 'default')).toMatchObject({ id: created.job_id });

    expect((await contentOf(service, created.id)).map((i) => i.content)).toEqual(first.map((i) => i.content));
    expect(await uploader.store(created.id, 1, () => {})).toBe('stored');
    expect(await service.status('default', created.id)).toMatchObject({ status: 'stored', version: 1 });
    expect(await parts.bucket.keys()).toEqual([await keyOf(created.id, 1)]);
    expect(await parts.staging.exists(created.id, 1)).toBe(false);
    expect((await contentOf(service, created.id)).map((i) => i.content)).toEqual(first.map((i) => i.content));

    const appended = await service.append('default', created.id, { items: rawItems(items(10, 'more')) });
    expect(appended).toMatchObject({ state: 'pending', version: 2 });
    expect(await uploader.store(created.id, 2, () => {})).toBe('stored');
    const both = await contentOf(service, created.id);
    expect(both.map((i) => i.content)).toEqual([...first, ...items(10, 'more')].map((i) => i.content));
    // the append wrote only its own items: a second object beside the first
    expect((await parts.bucket.keys()).sort()).toEqual([await keyOf(created.id, 1), await keyOf(created.id, 2)].sort());

    expect(await service.delete('default', created.id)).toMatchObject({ status: 'deleting' });
    await expect(service.get('default', created.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await uploader.purge(created.id)).toBe('purged');
    expect(await parts.bucket.keys(`contexts/`)).toEqual([]);
    expect(await parts.contexts.findAny(created.id)).toBeNull();
  });

  it('lists no expired context, before any lifecycle pass', async () => {
    const service = parts.service();
    const agent = `list-${randomUUID()}`;
    const lasting = await service.create('default', { ...createContextSchema.parse({ agent_id: agent }), content: [] });
    const brief = await service.create('default', {
      ...createContextSchema.parse({ agent_id: agent, ttl_seconds: 1 }),
      content: [],
    });
    expect((await service.list('default', listQuerySchema.parse({ agent_id: agent }))).items).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const listed = await service.list('default', listQuerySchema.parse({ agent_id: agent }));
    expect(listed.items.map((c) => c.id)).toEqual([idOf(lasting)]);
    expect(idOf(brief)).not.toBe(idOf(lasting));
  });

  it('reports 100 % only once the store has accepted the bytes', async () => {
    const created = await create(parts.service(), items(200));
    const progress: ByteProgress[] = [];
    let beforeAccepted: ByteProgress | undefined;
    const store = blobStoreWith(parts.blobs, {
      put: async (key, body, options) => {
        const bytes = Buffer.isBuffer(body) ? body : await buffer(body);
        // every byte has been read from staging; S3 has accepted none of them yet
        beforeAccepted = progress.at(-1);
        return parts.blobs.put(key, bytes, options);
      },
    });
    expect(await parts.uploader(store).store(created.id, 1, (p) => void progress.push(p))).toBe('stored');
    expect(beforeAccepted).toMatchObject({ bytes: beforeAccepted?.total });
    expect(beforeAccepted!.percent).toBeLessThan(100);
    expect(progress.at(-1)).toMatchObject({ percent: 100, bytes: beforeAccepted!.total });
  });

  it('keeps a failed upload staged and readable, and stores it on the next attempt', async () => {
    const service = parts.service();
    const content = items(20);
    const created = await create(service, content);
    let puts = 0;
    const failingOnce = blobStoreWith(parts.blobs, {
      put: async (key, body, options) => {
        if (++puts === 1) throw new Error('S3 is down, once');
        return parts.blobs.put(key, body, options);
      },
    });
    const uploader = parts.uploader(failingOnce);
    await expect(uploader.store(created.id, 1, () => {})).rejects.toThrow('S3 is down, once');
    await uploader.markFailed(created.id, 1, 'S3 is down, once');
    expect(await service.status('default', created.id)).toMatchObject({
      status: 'failed',
      last_error: 'S3 is down, once',
    });
    expect((await contentOf(service, created.id)).map((i) => i.content)).toEqual(content.map((i) => i.content));

    expect(await uploader.store(created.id, 1, () => {})).toBe('stored');
    expect(await service.status('default', created.id)).toMatchObject({ status: 'stored', last_error: null });
    expect(await parts.bucket.keys(`contexts/`)).toContain(await keyOf(created.id, 1));
  });
});

describe('token counting', () => {
  it('leaves counting beyond tokens.inline_count_bytes to the worker: stored first, final after', async () => {
    const tokens = { encoding: 'auto', defaultEncoding: 'o200k_base' } as const;
    const service = new ContextService({
      ...parts,
      settings: { ...parts.settings, inlineCountBytes: 100 },
      tokenCounter: new InlineTokenCounter(tokens),
      logger: console,
    });
    const created = await create(service, items(20));
    expect(await service.status('default', created.id)).toMatchObject({ status: 'pending', tokens_final: false });
    expect((await service.head('default', created.id)).current_tokens).toBe(0);
    expect(await parts.uploader().store(created.id, 1, () => {})).toBe('stored');
    const view = await service.head('default', created.id);
    expect(view).toMatchObject({ status: 'stored', tokens_final: true });
    // the worker's count is the one the API makes for items under the limit
    const counted = await create(parts.service(), items(20));
    await parts.uploader().store(counted.id, 1, () => {});
    expect(view.current_tokens).toBe((await parts.service().head('default', counted.id)).current_tokens);
    expect(view.current_tokens).toBeGreaterThan(20 * 20);
    // a budget read takes the counts the worker kept: all of them, when everything fits
    const budget = await service.read('default', created.id, { max_tokens: 10_000_000 });
    expect(budget.window).toMatchObject({ returned: 20, dropped: 0, tokens: view.current_tokens });
    const tight = await service.read('default', created.id, { max_tokens: Math.floor(view.current_tokens / 2) });
    expect(tight.window.tokens).toBeLessThanOrEqual(Math.floor(view.current_tokens / 2));
    expect(tight.window.dropped).toBeGreaterThan(0);
  });
});

describe('LifecycleService', () => {
  it('purges expired contexts with their objects, orphan objects and orphan staging; re-enqueues lost uploads', async () => {
    const service = parts.service();
    const uploader = parts.uploader();
    const expiring = await create(service, items(20), { ttl_seconds: 60 });
    expect(await uploader.store(expiring.id, 1, () => {})).toBe('stored');
    const expiringKey = await keyOf(expiring.id, 1);
    const orphanId = randomUUID();
    const orphanKey = objectKey('contexts', orphanId, 1);
    await parts.blobs.put(orphanKey, Buffer.from('{}'));
    await parts.staging.write(orphanId, 1, Readable.from([Buffer.from('left behind')]));
    const pending = await create(service, items(20));
    // Redis lost the job: the row is still pending, staged, with no job
    await parts.jobs.queue('context-upload').remove(pending.job_id);
    expect(await parts.jobs.getJob(pending.job_id, 'default')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 20));

    const counts = await parts.lifecycle().runOnce(new Date(Date.now() + 120_000));
    // other tests of this file share the database and bucket: at least ours were counted
    for (const count of [
      'expired_purged',
      'orphan_objects_removed',
      'staged_bodies_removed',
      'uploads_requeued',
    ] as const) {
      expect(counts[count]).toBeGreaterThanOrEqual(1);
    }
    expect(await parts.contexts.findAny(expiring.id)).toBeNull();
    const keys = await parts.bucket.keys('contexts/');
    expect(keys).not.toContain(expiringKey);
    expect(keys).not.toContain(orphanKey);
    expect(await parts.staging.exists(orphanId, 1)).toBe(false);
    expect(await parts.staging.exists(pending.id, 1)).toBe(true);
    expect(await parts.jobs.getJob(pending.job_id, 'default')).toMatchObject({ id: pending.job_id });
  });

  it('leaves objects younger than the grace period alone', async () => {
    const orphanKey = objectKey('contexts', randomUUID(), 1);
    await parts.blobs.put(orphanKey, Buffer.from('{}'));
    const counts = await parts.lifecycle({ objectGraceMs: 3_600_000 }).runOnce();
    expect(counts.orphan_objects_removed).toBe(0);
    expect(await parts.bucket.keys('contexts/')).toContain(orphanKey);
  });
});

/** The object key of the segment the write of `version` made. */
async function keyOf(id: string, version: number): Promise<string> {
  const key = (await parts.segments.findWrite(id, version))?.object_key;
  if (!key) throw new Error(`segment of ${id} v${version} is not stored`);
  return key;
}

function idOf(result: Awaited<ReturnType<ContextService['create']>>): string {
  return result.state === 'stored' ? result.context.id : result.id;
}
