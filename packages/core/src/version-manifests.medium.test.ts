// Version manifests owed: restores and forks made before manifests existed (the migration marks
// them) and those an import brings in (no manifest in the bucket) are written by the lifecycle
// pass, each as the request that made the version would have written it. A version whose segments
// are all inline owes none. The settings of core-services.ts store bodies from 1 KiB up as objects.
import { buffer } from 'node:stream/consumers';
import { newContextId } from '@ctxvault/db';
import { afterAll, describe, expect, it } from 'vitest';
import { useCoreParts } from '../../../test/helpers/core-services.ts';
import { rawItems } from './raw-items.ts';
import { type ContextItem, createContextSchema } from './schemas.ts';
import { manifestId } from './version-manifests.ts';

const parts = useCoreParts();
const T = 'default';
const KEEP = { keepVersions: 10 };
const items = (n: number, label: string): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${label} ${i} ${'x'.repeat(200)}` }));

async function stored(content: ContextItem[], appends: ContextItem[][] = []): Promise<string> {
  const service = parts.service();
  const input = createContextSchema.parse({ agent_id: 'owed', content });
  const created = await service.create(T, { ...input, content: rawItems(input.content) });
  const id = created.state === 'stored' ? created.context.id : created.id;
  if (created.state === 'pending') expect(await parts.uploader().store(id, 1, () => {})).toBe('stored');
  for (const more of appends) {
    const result = await service.append(T, id, { items: rawItems(more) });
    if (result.state === 'pending') expect(await parts.uploader().store(id, result.version, () => {})).toBe('stored');
  }
  return id;
}

async function query<R>(text: string, params: unknown[] = []): Promise<R[]> {
  const pool = await parts.orm.em.getConnection().getNativeClient();
  return (await pool.query(text, params)).rows as R[];
}

const owed = (ids: string[]) =>
  query<{ context_id: string; version: number }>(
    'select context_id, version from versions where manifest_pending and context_id = any($1::uuid[]) order by created_at',
    [ids],
  );

/** The restore of an appended context, a fork of it and a fork of an inline context, with their manifests as the requests wrote them. */
async function branches() {
  const service = parts.service();
  const restored = await stored(items(8, 'base'), [items(4, 'more')]);
  const restore = await service.restore(T, restored, 1);
  expect(restore).toMatchObject({ state: 'stored', context: { version: 3 } });
  const fork = await service.fork(T, restored, { version: 2, name: 'branch', metadata: { b: 1 } });
  if (fork.state !== 'stored') throw new Error('a fork of a stored version is stored at once');
  const inline = await stored([{ role: 'user', content: 'tiny' }]);
  const inlineFork = await service.fork(T, inline, {});
  if (inlineFork.state !== 'stored') throw new Error('a fork of a stored version is stored at once');
  const manifests = [
    { context_id: restored, version: 3 },
    { context_id: fork.context.id, version: 1 },
  ];
  const ids = [restored, fork.context.id, inline, inlineFork.context.id];
  expect(await owed(ids)).toEqual([]);
  return { ids, manifests, written: await Promise.all(manifests.map(manifestOf)) };
}

async function manifestOf({ context_id, version }: { context_id: string; version: number }) {
  const key = (await parts.bucket.keys()).find((k) =>
    k.includes(`/${context_id}/${version}.${manifestId(context_id, version)}`),
  );
  if (!key) return null;
  const { written_at, ...rest } = JSON.parse((await buffer(await parts.blobs.get(key))).toString());
  return { key, written_at, rest };
}

async function removeManifests(manifests: { context_id: string; version: number }[]) {
  for (const m of manifests) await parts.blobs.delete((await manifestOf(m))!.key);
  for (const m of manifests) expect(await manifestOf(m)).toBeNull();
}

/** The lifecycle pass writes exactly the owed manifests, the same as the requests wrote them (but when). */
async function writtenByLifecycle(ids: string[], written: Awaited<ReturnType<typeof branches>>['written']) {
  expect((await parts.lifecycle(KEEP).runOnce()).manifests_written).toBe(written.length);
  expect(await owed(ids)).toEqual([]);
  for (const [i, m] of written.entries()) {
    const again = await manifestOf({ context_id: m!.rest.context_id, version: m!.rest.version });
    expect(again?.rest).toEqual(written[i]!.rest);
  }
  expect((await parts.lifecycle(KEEP).runOnce()).manifests_written).toBe(0);
}

describe('owed version manifests', () => {
  afterAll(async () => {
    await parts.orm.migrator.up();
  });

  it('the migration marks the restores and forks made before manifests (not inline ones); the lifecycle pass writes them', async () => {
    const { ids, manifests, written } = await branches();
    await removeManifests(manifests);
    // the database as it was before the migration, then migrated
    await parts.orm.migrator.down({ to: 'Migration20261129100000_rebuild_tombstones' });
    await parts.orm.migrator.up();
    expect(await owed(ids)).toEqual(manifests);
    await writtenByLifecycle(ids, written);
  });

  it('the versions an import inserts owe their manifest when they are restores or forks on objects', async () => {
    // the archive format carries only create, replace, append and legacy versions today: the
    // repository call the importer makes is given restore and fork versions directly
    const { ids } = await branches();
    const [restored, , inline] = await Promise.all(ids.slice(0, 3).map((id) => parts.contexts.findAny(id)));
    const lists = async (id: string) =>
      query<{ version: number; segments: string[] }>(
        'select version, segments::text[] as segments from versions where context_id = $1 order by version',
        [id],
      );
    const [restoredLists, inlineLists] = [await lists(restored!.id), await lists(inline!.id)];
    const imported = { ...restored!, id: newContextId() };
    const importedInline = { ...inline!, id: newContextId(), version: 2 };
    const at = new Date();
    const insert = (row: typeof imported, versions: { version: number; kind: string; segments: string[] }[]) =>
      parts.segments.insertWhole(
        row,
        [],
        versions.map((v) => ({
          ...v,
          created_at: at,
          source_id: v.kind === 'create' ? null : row.id,
          source_version: 1,
        })),
        's3',
        true,
      );
    expect(
      await insert(imported, [
        { version: 1, kind: 'create', segments: restoredLists[0]!.segments },
        { version: 2, kind: 'append', segments: restoredLists[1]!.segments },
        { version: 3, kind: 'restore', segments: restoredLists[2]!.segments },
      ]),
    ).toBe('inserted');
    expect(
      await insert(importedInline, [
        { version: 1, kind: 'create', segments: inlineLists[0]!.segments },
        { version: 2, kind: 'restore', segments: inlineLists[0]!.segments },
      ]),
    ).toBe('inserted');
    // the same versions without owing (a rebuild from the bucket: their manifests are there)
    const rebuilt = { ...restored!, id: newContextId() };
    expect(
      await parts.segments.insertWhole(
        rebuilt,
        [],
        [
          {
            version: 1,
            kind: 'restore',
            segments: restoredLists[2]!.segments,
            created_at: at,
            source_id: rebuilt.id,
            source_version: 1,
          },
        ],
        's3',
      ),
    ).toBe('inserted');
    const all = [...ids, imported.id, importedInline.id, rebuilt.id];
    expect(await owed(all)).toEqual([{ context_id: imported.id, version: 3 }]);
    expect((await parts.lifecycle(KEEP).runOnce()).manifests_written).toBe(1);
    expect(await owed(all)).toEqual([]);
    const manifest = await manifestOf({ context_id: imported.id, version: 3 });
    expect(manifest?.written_at).toBe(at.toISOString());
    expect(manifest?.rest).toMatchObject({
      kind: 'restore',
      list: { version: 3, segments: restoredLists[2]!.segments },
      source: { context_id: imported.id, version: 1 },
      context: { id: imported.id, version: 3, agent_id: 'owed' },
    });
  });
});
