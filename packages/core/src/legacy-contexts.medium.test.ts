// Contexts stored before segments existed (one whole document per version, inline or an object)
// still read, append and compact after the segments migration: a database migrated up to the
// migration before it gets such rows, then the rest of the migrations run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ContextRepository, createOrm, type MikroORM, SegmentRepository, StagingRepository } from '@ctxvault/db';
import { LocalBlobStore, objectKey } from '@ctxvault/storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.ts';
import { Compactor } from './compactor.ts';
import { ContextService } from './context-service.ts';
import type { StorageSettings } from './ports.ts';
import { rawItems } from './raw-items.ts';
import { InlineTokenCounter } from './token-counter.ts';

const inlineId = '01900000-0000-7000-8000-000000000001';
const objectId = '01900000-0000-7000-8000-000000000002';
const document = (id: string, items: string[]) => `{"id":"${id}","version":1,"content":[\n${items.join(',\n')}\n]}\n`;
const items = ['{"role":"user","content":"old one","tokens":3}', '{"role":"assistant","content":"old two","tokens":4}'];

let db: TestDatabase;
let orm: MikroORM;
const blobs = new LocalBlobStore({ root: mkdtempSync(path.join(tmpdir(), 'ctxvault-legacy-')) });

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), { migrate: false });
  orm = await createOrm({ url: db.url, poolMax: 2 });
  await orm.migrator.up({ to: 'Migration20261126000000_staging_marks' });
  const pool = await orm.em.getConnection().getNativeClient();
  const insert = `insert into contexts (id, agent_id, status, version, storage_provider, storage_key, size_bytes, stored_bytes,
      sha256, message_count, token_count, metadata, body, created_at, updated_at)
    values ($1, 'legacy', 'stored', 1, $2, $3, $4, $4, 'x', 2, 7, '{}', $5, now(), now())`;
  const inlineBody = Buffer.from(document(inlineId, items));
  await pool.query(insert, [inlineId, 'database', null, inlineBody.length, inlineBody]);
  const key = objectKey('contexts', objectId, 1);
  const objectBody = Buffer.from(document(objectId, items));
  await blobs.put(key, objectBody);
  await pool.query(insert, [objectId, 'local', key, objectBody.length, null]);
  await orm.migrator.up();
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

describe('contexts of the layout before segments', () => {
  it('read, append and compact as before, inline and as objects', async () => {
    const settings: StorageSettings = {
      provider: 's3',
      pathPrefix: 'contexts',
      inlineThreshold: 1024,
      directWrites: true,
      codec: 'identity',
      inlineCountBytes: 64 * 1024,
      compaction: { maxSegments: 2, maxBytes: 1024 * 1024 },
    };
    const tokens = { encoding: 'auto', defaultEncoding: 'o200k_base' } as const;
    const deps = {
      contexts: new ContextRepository(orm),
      segments: new SegmentRepository(orm),
      staging: new StagingRepository(orm, { chunkSize: 64 * 1024, maxConcurrent: 2, bodyTimeoutMs: 60_000 }),
      blobs,
      jobs: {
        uploadJobId: (id: string, v: number) => `upload-${id}-v${v}`,
        enqueueUpload: async () => 'queued',
        enqueueCompaction: async () => 'queued',
        enqueueDelete: async () => 'queued',
        getJob: async () => null,
      },
      settings,
      tokens,
      logger: console,
      tokenCounter: new InlineTokenCounter(tokens),
    };
    const service = new ContextService(deps);
    for (const id of [inlineId, objectId]) {
      const text = async () => (await buffer(Readable.from((await service.get('default', id)).body))).toString();
      expect(JSON.parse(await text()).content.map((i: { content: string }) => i.content)).toEqual([
        'old one',
        'old two',
      ]);
      expect(await service.summary('default', id)).toMatchObject({ message_count: 2, current_tokens: 7 });
      for (const n of [1, 2]) {
        const added = await service.append('default', id, { items: rawItems([{ role: 'user', content: `new ${n}` }]) });
        expect(added.state).toBe('stored');
      }
      expect(await new Compactor(deps).compact(id)).toBe('compacted');
      expect((await service.head('default', id)).segments).toBe(2);
      expect(await text()).toContain(`[\n${items[0]},\n${items[1]},\n{"role":"user","content":"new 1"},\n`);
      const tail = await service.read('default', id, { last: 3 });
      expect((await buffer(Readable.from(tail.lines))).toString().split('\n').filter(Boolean)).toEqual([
        items[1],
        '{"role":"user","content":"new 1"}',
        '{"role":"user","content":"new 2"}',
      ]);
    }
  });
});
