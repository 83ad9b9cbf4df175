// Export, import and rebuild on real parts with a small `heldContextBytes`, so that the two ways
// each works are both taken in one run: contexts held in memory and worked on a few at a time, and
// contexts (or the rest of one) streamed because they are larger. Whatever the way, the archive is
// the same bytes and the segments written (by an import, or by a rebuild from the bucket) carry the
// same index as the ones they came from.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ContextRepository, createOrm, type MikroORM, SegmentRepository } from '@ctxvault/db';
import { createBlobStore } from '@ctxvault/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { useCoreParts } from '../../../../test/helpers/core-services.ts';
import type { TestDatabase } from '../../../../test/helpers/database.ts';
import { createFileDatabase } from '../../../../test/helpers/file-database.ts';
import { rawItems } from '../raw-items.ts';
import { type ContextItem, createContextSchema } from '../schemas.ts';
import { Tokenizer } from '../tokens.ts';
import { BucketRebuilder } from './bucket-rebuilder.ts';
import { ArchiveExporter } from './exporter.ts';
import { ArchiveImporter } from './importer.ts';

const parts = useCoreParts();
const T = 'default';
const HELD = 4 * 1024;
const silent = { info() {}, warn() {}, error() {}, debug() {} };
const tokenizer = new Tokenizer({ encoding: 'auto', defaultEncoding: 'o200k_base' });
const opened: { orm: MikroORM; db: TestDatabase }[] = [];

const items = (n: number, label: string): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: `${label} ${i} ${'x'.repeat(200)}`,
  }));

/** A context as the workers leave it: created, stored, then appended to (each append its own segment). */
async function stored(content: ContextItem[], appends: ContextItem[][] = []): Promise<string> {
  const service = parts.service();
  const input = createContextSchema.parse({ agent_id: 'read-ahead', content });
  const created = await service.create(T, { ...input, content: rawItems(input.content) });
  const id = created.state === 'stored' ? created.context.id : created.id;
  if (created.state === 'pending') expect(await parts.uploader().store(id, 1, () => {})).toBe('stored');
  for (const more of appends) {
    const result = await service.append(T, id, { items: rawItems(more) });
    if (result.state === 'pending') expect(await parts.uploader().store(id, result.version, () => {})).toBe('stored');
  }
  return id;
}

/** An empty database of its own, with the repositories the archive commands write through. */
async function emptyDeployment() {
  const db = await createFileDatabase();
  const orm = await createOrm({ url: db.url, poolMax: 4 });
  opened.push({ orm, db });
  return { orm, contexts: new ContextRepository(orm), segments: new SegmentRepository(orm) };
}

/** The index columns of the segments of these contexts, by segment id. */
async function indexOf(orm: MikroORM, ids: string[]): Promise<Record<string, unknown>[]> {
  const pool = await orm.em.getConnection().getNativeClient();
  const { rows } = await pool.query(
    `select id, context_id, version, first_item, item_count, size_bytes, sha256, token_count, roles,
            item_offsets, item_tokens, item_roles
       from segments where context_id = any($1::uuid[]) order by id`,
    [ids],
  );
  return rows;
}

afterAll(async () => {
  for (const { orm, db } of opened) {
    await orm.close();
    await db.drop();
  }
});

describe('archive commands holding at most a few KiB of a context', () => {
  it('export, import and rebuild the same whether a context is held or streamed', async () => {
    const ids = [
      await stored(items(6, 'small')), // held whole
      await stored(items(40, 'large')), // streamed whole
      await stored(items(8, 'appended'), [items(8, 'second'), items(8, 'third')]), // held, then streamed
      await stored([{ role: 'user', content: 'inline' }]),
      await stored(items(6, 'last')),
    ];
    const exporter = (heldContextBytes?: number) =>
      new ArchiveExporter({ ...parts, heldContextBytes }).export({ tenant_id: T, versions: 'current' });
    const archive = await buffer(Readable.from(exporter(HELD)));
    const withoutHeader = (bytes: Buffer) => bytes.subarray(bytes.indexOf('\n') + 1).toString();
    // the default holds every context here whole: the same records and items, in the same order
    expect(withoutHeader(archive)).toBe(withoutHeader(await buffer(Readable.from(exporter()))));
    expect(
      withoutHeader(archive)
        .split('\n')
        .filter((l) => l.startsWith('{"type":"context"')).length,
    ).toBe(5);

    const source = await indexOf(parts.orm, ids);
    const dir = await mkdtemp(path.join(tmpdir(), 'ctxvault-read-ahead-'));
    try {
      const target = await emptyDeployment();
      const importer = new ArchiveImporter({
        ...target,
        blobs: createBlobStore({ type: 'local', local: { root: dir } }),
        settings: parts.settings,
        logger: silent,
        tokenizer,
        heldContextBytes: HELD,
      });
      const report = await importer.import(Readable.from(archive));
      expect(report).toMatchObject({ imported: 5, unchanged: 0, conflicts: [], failed: [], complete: true });
      expect(await indexOf(target.orm, ids)).toEqual(source);
      expect(await importer.import(Readable.from(archive))).toMatchObject({ imported: 0, unchanged: 5 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // the inline context has no object: it is not in the bucket, every other one is rebuilt as it was
    const rebuilt = await emptyDeployment();
    const rebuilder = new BucketRebuilder({
      ...rebuilt,
      blobs: parts.blobs,
      settings: parts.settings,
      logger: silent,
      tokenizer,
      heldContextBytes: HELD,
    });
    expect(await rebuilder.run()).toMatchObject({ contexts: 4, rebuilt: 4, failed: [] });
    const fromBucket = ids.filter((_, i) => i !== 3);
    expect(await indexOf(rebuilt.orm, fromBucket)).toEqual(source.filter((s) => s.context_id !== ids[3]));
  }, 120_000);
});
