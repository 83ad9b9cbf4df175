// Expiry, housekeeping and safe writes on the real processes: `ctxvault lifecycle --once` purges
// expired contexts and collects whatever no row needs, Idempotency-Key never makes a second context,
// and concurrent appends never lose an acknowledged item.

import { randomUUID } from 'node:crypto';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { objectKey } from '@ctxvault/storage';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { api, type Item, itemsOfSize, proseItemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { queryRows } from '../helpers/database.ts';
import { lifecyclePass, spawnCtxvault } from '../helpers/processes.ts';
import { forgetQueueKeys } from '../helpers/redis-server.ts';
import { useSuite } from '../helpers/suite.ts';

const NO_GRACE = {
  MCP_LIFECYCLE_OBJECT_GRACE: '0s',
  MCP_LIFECYCLE_MULTIPART_GRACE: '0s',
  MCP_LIFECYCLE_STAGING_GRACE: '0s',
  MCP_LIFECYCLE_PENDING_GRACE: '0s',
  MCP_STORAGE_INLINE_THRESHOLD: '16KiB',
};
const suite = useSuite({ env: NO_GRACE });

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  queryRows<T>(suite.db.url, text, params);

async function createStored(agent: string, content: Item[], extra: object = {}): Promise<string> {
  const res = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: agent, content, ...extra },
  });
  expect([201, 202]).toContain(res.status);
  const id = res.json.id;
  if (res.status === 202) expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('stored');
  return id;
}

describe('expiry', () => {
  it('an expired context is 404 at once and purged, row and objects, by the lifecycle pass', async () => {
    // long enough for the upload to be stored on a loaded machine before it expires
    const id = await createStored('ttl', itemsOfSize(64 * 1024), { ttl_seconds: 10 });
    const created = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(created.status).toBe(200);
    expect(Date.parse(created.json.expires_at) - Date.parse(created.json.created_at)).toBe(10_000);
    expect((await suite.bucket.keys()).some((k) => k.includes(id))).toBe(true);
    await new Promise((r) => setTimeout(r, Date.parse(created.json.expires_at) - Date.now() + 100));
    expect((await api(suite.app.url, `/api/v1/contexts/${id}`)).status).toBe(404);
    expect((await api(suite.app.url, `/api/v1/contexts/${id}/status`)).status).toBe(404);
    const counts = await lifecyclePass(suite.app.env);
    expect(counts.expired_purged).toBeGreaterThanOrEqual(1);
    expect(await sql('select id from contexts where id = $1', [id])).toEqual([]);
    expect((await suite.bucket.keys()).filter((k) => k.includes(id))).toEqual([]);
  });

  it('expires_at and ttl_seconds together are refused', async () => {
    const res = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'x', ttl_seconds: 5, expires_at: new Date(Date.now() + 1000).toISOString() },
    });
    expect(res.status).toBe(400);
  });
});

describe('housekeeping', () => {
  it('collects orphan objects, superseded versions, stale multipart uploads and orphaned staging', async () => {
    // a context replaced once: version 1's segment is superseded (keep_versions is 0); then appended
    // to, which keeps version 2's segment and adds one
    const id = await createStored('versions', itemsOfSize(64 * 1024));
    await api(suite.app.url, `/api/v1/contexts/${id}`, { method: 'PUT', json: { content: itemsOfSize(32 * 1024) } });
    await waitUntilSettled(suite.app.url, id);
    await api(suite.app.url, `/api/v1/contexts/${id}/items`, {
      method: 'POST',
      json: { items: itemsOfSize(32 * 1024) },
    });
    await waitUntilSettled(suite.app.url, id);
    const kept = (await suite.bucket.keys()).filter((k) => k.includes(id) && !k.includes(`/${id}/1.`));
    expect(kept).toHaveLength(2);
    const current = (await api(suite.app.url, `/api/v1/contexts/${id}`)).json.storage.key as string;
    // an object whose context does not exist, a multipart upload nobody finished, staging nobody needs
    const ghost = randomUUID();
    const ghostKey = objectKey('contexts', ghost, 1);
    await suite.bucket.client.send(new PutObjectCommand({ Bucket: suite.bucket.name, Key: ghostKey, Body: '{}' }));
    await suite.bucket.client.send(
      new CreateMultipartUploadCommand({ Bucket: suite.bucket.name, Key: objectKey('contexts', ghost, 2) }),
    );
    await sql(
      `insert into staged_chunks (context_id, version, seq, data, created_at) values ($1, 1, 0, 'x', now() - interval '1 hour')`,
      [ghost],
    );

    const counts = await lifecyclePass(suite.app.env);
    expect(counts).toMatchObject({
      orphan_objects_removed: 1,
      old_versions_removed: 1,
      multipart_uploads_aborted: 1,
      staged_bodies_removed: 1,
    });
    const keys = await suite.bucket.keys();
    expect(keys).not.toContain(ghostKey);
    expect(keys.filter((k) => k.includes(id)).sort()).toEqual(kept.sort());
    expect(kept).toContain(current);
    expect(
      (await suite.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: suite.bucket.name }))).Uploads ?? [],
    ).toEqual([]);
    expect(await sql('select 1 from staged_chunks where context_id = $1', [ghost])).toEqual([]);
    // and the live context is untouched
    expect((await api(suite.app.url, `/api/v1/contexts/${id}`)).status).toBe(200);
  });

  it('re-enqueues a pending context whose job was lost', async () => {
    await suite.app.worker.stop();
    try {
      const res = await api(suite.app.url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'lost', content: itemsOfSize(64 * 1024) },
      });
      expect(res.status).toBe(202);
      // Redis forgets the job (as after a restart without persistence)
      await forgetQueueKeys(suite.app.env.MCP_QUEUE_PREFIX!);
      expect((await api(suite.app.url, `/api/v1/jobs/${res.json.job_id}`)).status).toBe(404);

      const counts = await lifecyclePass(suite.app.env);
      expect(counts.uploads_requeued).toBeGreaterThanOrEqual(1);
      suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
      expect((await waitUntilSettled(suite.app.url, res.json.id, 60_000)).at(-1).status).toBe('stored');
    } finally {
      if (suite.app.worker.child.exitCode !== null)
        suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
    }
  });
});

describe('a worker stopped while it indexes for search', () => {
  it('exits 0 within its shutdown time, leaving the segment unmarked; the lifecycle pass indexes it whole', async () => {
    const content = proseItemsOfSize(16 * 1024 * 1024);
    content[900] = { role: 'user', content: 'the needle-51c2 is here' };
    // the index's inserts wait on this lock (reads do not), so the indexing is still under way when
    // the shutdown's grace ends, however fast the machine
    const holder = new pg.Client({ connectionString: suite.db.url });
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table segment_search in share mode');
    let id: string;
    let seg: { id: string; search_indexed: boolean; item_count: number } | undefined;
    const worker = suite.app.worker;
    let seconds = 0;
    try {
      id = await createStored('indexing-stop', content);
      [seg] = await sql<{ id: string; search_indexed: boolean; item_count: number }>(
        'select id, search_indexed, item_count from segments where context_id = $1',
        [id],
      );
      expect(seg!.search_indexed).toBe(false);
      const started = performance.now();
      const stopping = worker.stop('SIGTERM');
      // past the shutdown's 5 s grace, well within its step's timeout
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      await holder.query('commit');
      await stopping;
      seconds = (performance.now() - started) / 1000;
    } finally {
      await holder.end();
    }
    try {
      console.info(
        `worker stopped during search indexing: exited ${worker.child.exitCode} after ${seconds.toFixed(1)} s`,
      );
      expect(worker.child.exitCode).toBe(0);
      const output = worker.output();
      // this segment's lines (the worker also ran earlier tests' jobs, some on objects they removed)
      const own = output.split('\n').filter((line) => line.includes(seg!.id));
      expect(own.join('\n')).toContain('search indexing stopped by shutdown');
      expect(own.join('\n')).not.toMatch(/search indexing failed/i);
      expect(output).not.toMatch(/shutdown step did not finish|unhandled/i);
      const [after] = await sql<{ search_indexed: boolean; entries: number }>(
        `select search_indexed, (select count(*)::int from segment_search where segment_id = $1) as entries
           from segments where id = $1`,
        [seg!.id],
      );
      expect(after).toMatchObject({ search_indexed: false });
      expect(after!.entries).toBeLessThan(seg!.item_count);
      // a search meanwhile reads the segment itself
      const found = await api(suite.app.url, `/api/v1/contexts/${id}/search`, {
        method: 'POST',
        json: { query: 'needle-51c2' },
      });
      expect(found.json.matches.map((m: { index: number }) => m.index)).toEqual([900]);
    } finally {
      suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
    }
    // the new worker does not index what it did not store: the lifecycle's backlog does
    const counts = await lifecyclePass(suite.app.env);
    expect(counts.segments_indexed).toBeGreaterThanOrEqual(1);
    const [indexed] = await sql<{ search_indexed: boolean; entries: number }>(
      `select search_indexed, (select count(*)::int from segment_search where segment_id = $1) as entries
         from segments where id = $1`,
      [seg!.id],
    );
    expect(indexed).toEqual({ search_indexed: true, entries: seg!.item_count });
    const found = await api(suite.app.url, `/api/v1/contexts/${id}/search`, {
      method: 'POST',
      json: { query: 'NEEDLE-51C2' },
    });
    expect(found.json.matches.map((m: { index: number }) => m.index)).toEqual([900]);
  }, 300_000);
});

describe('safe writes', () => {
  it('Idempotency-Key: repeats and races return the same context, never a second one', async () => {
    const key = `create-${randomUUID()}`;
    const body = { agent_id: 'idem', content: [{ role: 'user', content: 'once' }] };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        api(suite.app.url, '/api/v1/contexts', { method: 'POST', json: body, headers: { 'idempotency-key': key } }),
      ),
    );
    expect(answers.map((a) => a.status).every((s) => s === 201)).toBe(true);
    expect(new Set(answers.map((a) => a.json.id)).size).toBe(1);
    expect(await sql(`select id from contexts where agent_id = 'idem'`)).toHaveLength(1);
    const bad = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: body,
      headers: { 'idempotency-key': 'has space' },
    });
    expect(bad.status).toBe(400);
  });

  it('concurrent appends never lose an acknowledged item', async () => {
    const id = await createStored('appends', [{ role: 'system', content: 'start' }]);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api(suite.app.url, `/api/v1/contexts/${id}/items`, {
          method: 'POST',
          json: { items: [{ role: 'user', content: `item ${i}` }] },
        }),
      ),
    );
    const acknowledged = answers.flatMap((a, i) => (a.status < 300 ? [`item ${i}`] : []));
    for (const a of answers) expect([200, 202, 409]).toContain(a.status);
    expect(acknowledged.length).toBeGreaterThan(0);
    const content = (await api(suite.app.url, `/api/v1/contexts/${id}`)).json.content.map((c: Item) => c.content);
    for (const item of acknowledged) expect(content).toContain(item);
    expect(content.length).toBe(1 + acknowledged.length);
  });
});
