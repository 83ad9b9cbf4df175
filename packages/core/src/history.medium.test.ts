// History and forks on real parts: which segments the lifecycle pass keeps (reachability over every
// version of every context), tombstones of collected versions, and forks that share segments with
// their source. The settings of core-services.ts store bodies from 1 KiB up as objects.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { useCoreParts } from '../../../test/helpers/core-services.ts';
import type { ContextService } from './context-service.ts';
import { GoneError } from './errors/index.ts';
import { rawItems } from './raw-items.ts';
import { type ContextItem, createContextSchema } from './schemas.ts';
import { DELETED_MARK, manifestId } from './version-manifests.ts';

const parts = useCoreParts();
const T = 'default';

const turn = (label: string): ContextItem => ({ role: 'user', content: label });
const big = (n: number, label = 'base'): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${label} ${i} ${'x'.repeat(200)}` }));

async function storedContext(service: ContextService, content: ContextItem[]): Promise<string> {
  const input = createContextSchema.parse({ agent_id: 'history', content });
  const created = await service.create(T, { ...input, content: rawItems(input.content) });
  if (created.state !== 'pending') throw new Error('expected a staged create');
  expect(await parts.uploader().store(created.id, 1, () => {})).toBe('stored');
  return created.id;
}

async function append(service: ContextService, id: string, items: ContextItem[]): Promise<number> {
  const result = await service.append(T, id, { items: rawItems(items) });
  const version = result.state === 'stored' ? result.context.version : result.version;
  if (result.state === 'pending') expect(await parts.uploader().store(id, version, () => {})).toBe('stored');
  return version;
}

async function contentOf(service: ContextService, id: string, version?: number): Promise<string[]> {
  const text = (await buffer(Readable.from((await service.get(T, id, version)).body))).toString();
  return JSON.parse(text).content.map((item: ContextItem) => item.content);
}

async function segmentRows(ids: string[]): Promise<{ id: string; context_id: string; retired_at: Date | null }[]> {
  const pool = await parts.orm.em.getConnection().getNativeClient();
  const { rows } = await pool.query(
    'select id, context_id, retired_at from segments where context_id = any($1::uuid[]) order by id',
    [ids],
  );
  return rows;
}

async function sql(text: string, params: unknown[] = []): Promise<void> {
  const pool = await parts.orm.em.getConnection().getNativeClient();
  await pool.query(text, params);
}

const later = () => new Date(Date.now() + 1000);

describe('forks', () => {
  it('share the source segments (no new segment, one small manifest object) and appends to either never touch the other', async () => {
    const service = parts.service();
    const id = await storedContext(service, big(20));
    await append(service, id, [turn('source 1')]);
    const keysBefore = await parts.bucket.keys();
    const segsBefore = await segmentRows([id]);

    const forked = await service.fork(T, id, { agent_id: 'sub-agent', metadata: { branch: 'what-if' } });
    if (forked.state !== 'stored') throw new Error('a fork of a stored version is stored at once');
    const fork = forked.context.id;
    expect(forked.context).toMatchObject({ agent_id: 'sub-agent', metadata: { branch: 'what-if' }, version: 1 });
    expect(forked.context.message_count).toBe(21);
    // nothing copied: the only new object is the fork's manifest (no items, its trailer only)
    const added = (await parts.bucket.keys()).filter((k) => !keysBefore.includes(k));
    expect(added).toEqual([expect.stringContaining(`/${fork}/1.${manifestId(fork, 1)}.json`)]);
    const manifest = JSON.parse((await buffer(await parts.blobs.get(added[0]!))).toString());
    expect(manifest).toMatchObject({
      kind: 'fork',
      item_count: 0,
      list: { version: 1, segments: segsBefore.map((s) => s.id) },
      source: { context_id: id, version: 2 },
      context: { id: fork, agent_id: 'sub-agent', metadata: { branch: 'what-if' } },
    });
    expect(await segmentRows([id, fork])).toEqual(segsBefore);
    expect(await contentOf(service, fork)).toEqual(await contentOf(service, id));

    await append(service, fork, [turn('fork 1')]);
    await append(service, id, [turn('source 2')]);
    expect((await contentOf(service, fork)).slice(20)).toEqual(['source 1', 'fork 1']);
    expect((await contentOf(service, id)).slice(20)).toEqual(['source 1', 'source 2']);
    const versions = await service.versions(T, fork, { limit: 10 });
    expect(versions.items.map((v) => [v.version, v.kind, v.source])).toEqual([
      [2, 'append', null],
      [1, 'fork', { context_id: id, version: 2 }],
    ]);
  });

  it("the source's purge keeps the segments a fork shares; once the fork is gone too, the lifecycle collects them", async () => {
    const service = parts.service();
    const id = await storedContext(service, big(20, 'shared'));
    const forked = await service.fork(T, id, {});
    if (forked.state !== 'stored') throw new Error('expected a stored fork');
    const fork = forked.context.id;
    const expected = await contentOf(service, fork);
    const shared = (await parts.bucket.keys()).filter((k) => k.includes(id));
    expect(shared).toHaveLength(1);

    await service.delete(T, id);
    expect(await parts.uploader().purge(id)).toBe('purged');
    await parts.lifecycle().runOnce(later());
    expect(await contentOf(service, fork)).toEqual(expected);
    // the shared object stays, with the mark that keeps a rebuild from the bucket from bringing the source back
    const mark = `/${id}/0.${manifestId(id, DELETED_MARK)}.json`;
    expect((await parts.bucket.keys()).filter((k) => k.includes(id))).toEqual([
      expect.stringContaining(mark),
      ...shared,
    ]);

    await service.delete(T, fork);
    expect(await parts.uploader().purge(fork)).toBe('purged');
    // retired by this pass, removed by the next (the grace is 0 here)
    await parts.lifecycle().runOnce(later());
    await parts.lifecycle().runOnce(later());
    expect((await parts.bucket.keys()).filter((k) => k.includes(id) || k.includes(fork))).toEqual([]);
    expect(await segmentRows([id, fork])).toEqual([]);
  });

  it('compacting a fork writes its own object and leaves the source as it was', async () => {
    const service = parts.service();
    const id = await storedContext(service, big(10));
    for (let i = 0; i < 3; i++) await append(service, id, big(2, `source ${i}`));
    const forked = await service.fork(T, id, {});
    if (forked.state !== 'stored') throw new Error('expected a stored fork');
    const fork = forked.context.id;
    for (let i = 0; i < 2; i++) await append(service, fork, big(2, `fork ${i}`));
    const source = await contentOf(service, id);
    const branch = await contentOf(service, fork);

    expect(await parts.compactor().compact(fork)).toBe('compacted');
    expect((await service.head(T, fork)).segments).toBeLessThan(6);
    expect((await service.head(T, id)).segments).toBe(4);
    await parts.lifecycle().runOnce(later());
    await parts.lifecycle().runOnce(later());
    expect(await contentOf(service, id)).toEqual(source);
    expect(await contentOf(service, fork)).toEqual(branch);
    const owners = new Set((await segmentRows([fork])).map((s) => s.context_id));
    expect(owners).toEqual(new Set([fork]));
  });

  it('a version still being stored cannot be forked yet', async () => {
    const service = parts.service();
    const input = createContextSchema.parse({ agent_id: 'history', content: big(20) });
    const created = await service.create(T, { ...input, content: rawItems(input.content) });
    expect(created.state).toBe('pending');
    if (created.state !== 'pending') return;
    await expect(service.fork(T, created.id, {})).rejects.toMatchObject({ status: 409 });
  });
});

describe('kept versions', () => {
  it('survive compaction of the current version; beyond keep_versions they become tombstones (410)', async () => {
    const service = parts.service();
    const id = await storedContext(service, big(20));
    for (let i = 1; i <= 5; i++) await append(service, id, [turn(`turn ${i}`)]);
    const v3 = await contentOf(service, id, 3);
    expect(v3.slice(20)).toEqual(['turn 1', 'turn 2']);
    expect(await parts.compactor().compact(id)).toBe('compacted');

    const lifecycle = parts.lifecycle({ keepVersions: 3 });
    await lifecycle.runOnce(later());
    await lifecycle.runOnce(later());
    // 6 is current, 3..5 kept: their segments stay though compaction merged them out of version 6
    expect(await contentOf(service, id, 3)).toEqual(v3);
    expect((await contentOf(service, id, 5)).slice(20)).toEqual(['turn 1', 'turn 2', 'turn 3', 'turn 4']);
    const error = await service.get(T, id, 2).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GoneError);
    expect((error as GoneError).details).toMatchObject({ version: 2, current_version: 6 });
    expect((error as GoneError & { details: { collected_at: string } }).details.collected_at).toMatch(/^\d{4}-/);
    await expect(service.get(T, id, 7)).rejects.toMatchObject({ status: 404 });

    const { items } = await service.versions(T, id, { limit: 10 });
    expect(items.map((v) => [v.version, v.state])).toEqual([
      [6, 'kept'],
      [5, 'kept'],
      [4, 'kept'],
      [3, 'kept'],
      [2, 'collected'],
      [1, 'collected'],
    ]);
    // a tombstone keeps the totals it had
    expect(items[4]).toMatchObject({ message_count: 21, segments: 0 });
    expect(items[0]).toMatchObject({ current: true, message_count: 25 });
    expect(items[0]?.compacted_at).not.toBeNull();
  });

  it('a restore takes an old version up again: its segments outlive the versions that were collected', async () => {
    const service = parts.service();
    const id = await storedContext(service, big(20, 'first'));
    const first = await contentOf(service, id);
    const replaced = await service.replace(T, id, { content: rawItems(big(20, 'second')), metadata: { n: 2 } });
    if (replaced.state === 'pending') await parts.uploader().store(id, 2, () => {});
    await append(service, id, [turn('after')]);

    const restored = await service.restore(T, id, 1);
    expect(restored.state === 'stored' && restored.context).toMatchObject({ version: 4, metadata: {} });
    await expect(service.restore(T, id, 1, 3)).rejects.toMatchObject({ status: 412 });
    // keep nothing: 1..3 are collected, but version 1's segment is version 4's too
    await parts.lifecycle().runOnce(later());
    await parts.lifecycle().runOnce(later());
    expect(await contentOf(service, id)).toEqual(first);
    await expect(service.get(T, id, 1)).rejects.toBeInstanceOf(GoneError);
    await expect(service.restore(T, id, 2)).rejects.toBeInstanceOf(GoneError);
    await expect(service.fork(T, id, { version: 3 })).rejects.toBeInstanceOf(GoneError);
    // version 1's object, and the manifest of the kept restore (version 4)
    const left = (await parts.bucket.keys()).filter((k) => k.includes(id));
    expect(left).toHaveLength(2);
    expect(left).toContainEqual(expect.stringContaining(`/4.${manifestId(id, 4)}.json`));
    // the manifest goes with its version: once version 4 is collected, the pass removes it
    await append(service, id, [turn('after the restore')]);
    await parts.lifecycle().runOnce(later());
    await parts.lifecycle().runOnce(later());
    // (the append is inline here): version 1's object is all that is left
    expect((await parts.bucket.keys()).filter((k) => k.includes(id))).toEqual(
      left.filter((k) => !k.includes(manifestId(id, 4))),
    );
  });

  it('keep_for keeps every version superseded less than that long ago, whatever keep_versions says', async () => {
    const service = parts.service();
    const id = await storedContext(service, big(10));
    for (let i = 1; i <= 3; i++) await append(service, id, [turn(`turn ${i}`)]);
    // versions 1 and 2 were superseded two hours ago, version 3 just now
    await sql(`update versions set created_at = now() - interval '2 hours' where context_id = $1 and version <= 3`, [
      id,
    ]);
    await sql(`update versions set created_at = now() where context_id = $1 and version = 4`, [id]);
    await parts.lifecycle({ keepVersions: 0, keepForMs: 3_600_000 }).runOnce(later());
    const { items } = await service.versions(T, id, { limit: 10 });
    expect(items.map((v) => [v.version, v.state])).toEqual([
      [4, 'kept'],
      [3, 'kept'],
      [2, 'collected'],
      [1, 'collected'],
    ]);
    expect((await contentOf(service, id, 3)).slice(10)).toEqual(['turn 1', 'turn 2']);
  });

  it('pages the history newest first with a cursor', async () => {
    const service = parts.service();
    const id = await storedContext(service, big(5));
    for (let i = 1; i <= 4; i++) await append(service, id, [turn(`turn ${i}`)]);
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.versions(T, id, { limit: 2, cursor });
      seen.push(...page.items.map((v) => v.version));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([5, 4, 3, 2, 1]);
    await expect(service.versions(T, id, { limit: 2, cursor: 'bm9wZQ' })).rejects.toMatchObject({ status: 400 });
  });
});
