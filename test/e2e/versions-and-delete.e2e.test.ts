// Append, replace and delete through the real processes: each write is a new version, the row flips
// only when its object is complete, and a delete leaves no object and no row behind.

import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { deleteJobId } from '@ctxvault/queue';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { api, type Item, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const suite = useSuite({ env: { MCP_STORAGE_INLINE_THRESHOLD: '64KiB' } });

async function countRows(id: string): Promise<number> {
  const client = new pg.Client({ connectionString: suite.db.url });
  await client.connect();
  try {
    const { rows } = await client.query('select count(*)::int as n from contexts where id = $1', [id]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

async function createStored(content: Item[]): Promise<string> {
  const created = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: 'versions', content },
  });
  // staged (202), or written straight to its object when larger than a part (201)
  expect([201, 202]).toContain(created.status);
  const settled = await waitUntilSettled(suite.app.url, created.json.id);
  expect(settled.at(-1).status).toBe('stored');
  return created.json.id;
}

describe('versions', () => {
  it('append makes a new version holding the old items and the new ones', async () => {
    const first = itemsOfSize(200 * 1024);
    const id = await createStored(first);
    const added: Item[] = [
      { role: 'user', content: 'one more' },
      { role: 'assistant', content: 'sure' },
    ];
    const appended = await api(suite.app.url, `/api/v1/contexts/${id}/items`, {
      method: 'POST',
      json: { items: added },
      headers: { 'if-match': '"1"' },
    });
    // a small append is a small inline segment: stored at once, nothing of the context rewritten
    expect(appended.status).toBe(200);
    expect(appended.json).toMatchObject({ version: 2, status: 'stored', segments: 2 });
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.json.version).toBe(2);
    expect(read.json.content).toEqual([...first, ...added]);
    expect(read.json.message_count).toBe(first.length + 2);
    // the first version's object is the only object: the append did not copy it
    expect(read.json.storage.key).toMatch(new RegExp(`/${id}/1\\.[0-9a-f-]{36}\\.json$`));
    expect((await suite.bucket.keys()).filter((k) => k.includes(id))).toEqual([read.json.storage.key]);
  });

  it('replace swaps content and metadata as a new version; a stale If-Match is refused', async () => {
    const id = await createStored(itemsOfSize(100 * 1024));
    const content: Item[] = [{ role: 'system', content: 'fresh start' }];
    const replaced = await api(suite.app.url, `/api/v1/contexts/${id}`, {
      method: 'PUT',
      json: { content, metadata: { v: 2 } },
    });
    expect(replaced.status).toBe(200); // small enough to be stored inline at once
    expect(replaced.json).toMatchObject({ version: 2, status: 'stored', metadata: { v: 2 }, message_count: 1 });
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.json.content).toEqual(content);

    const stale = await api(suite.app.url, `/api/v1/contexts/${id}`, {
      method: 'PUT',
      json: { content },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.json.error).toMatchObject({ code: 'precondition_failed', details: { current_version: 2 } });
  });

  it('a large append to a large context streams through staging and S3 again', async () => {
    const id = await createStored(itemsOfSize(6 * MiB));
    const added = itemsOfSize(1 * MiB);
    const appended = await api(suite.app.url, `/api/v1/contexts/${id}/items`, {
      method: 'POST',
      json: { items: added },
    });
    expect(appended.status).toBe(202);
    expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('stored');
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.json.content.length).toBeGreaterThan(added.length);
    expect(read.json.content.slice(-added.length)).toEqual(added);
    // the append uploaded its own items only: a second object of about 1 MiB beside the 6 MiB one
    const keys = (await suite.bucket.keys()).filter((k) => k.includes(id));
    expect(keys).toHaveLength(2);
    const newest = await suite.bucket.client.send(
      new HeadObjectCommand({ Bucket: suite.bucket.name, Key: read.json.storage.key }),
    );
    expect(newest.ContentLength).toBeGreaterThan(MiB);
    expect(newest.ContentLength).toBeLessThan(1.5 * MiB);
  });
});

describe('delete', () => {
  it('answers 202, then no read finds it, no object and no row remain', async () => {
    const id = await createStored(itemsOfSize(200 * 1024));
    await api(suite.app.url, `/api/v1/contexts/${id}/items`, {
      method: 'POST',
      json: { items: itemsOfSize(100 * 1024) },
    });
    await waitUntilSettled(suite.app.url, id);
    expect((await suite.bucket.keys()).filter((k) => k.includes(id))).toHaveLength(2);

    const deleted = await api(suite.app.url, `/api/v1/contexts/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    expect(deleted.json).toMatchObject({ id, status: 'deleting', job_id: deleteJobId(id) });
    expect((await api(suite.app.url, `/api/v1/contexts/${id}`)).status).toBe(404);

    await expect.poll(() => countRows(id), { timeout: 30_000, interval: 100 }).toBe(0);
    expect((await suite.bucket.keys()).filter((k) => k.includes(id))).toEqual([]);
    const job = await api(suite.app.url, `/api/v1/jobs/${deleteJobId(id)}`);
    expect(job.json).toMatchObject({ state: 'completed' });
  });
});

describe('list', () => {
  it('filters by agent, session, model and status and pages with a cursor', async () => {
    const agent = `list-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(suite.app.url, '/api/v1/contexts', {
        method: 'POST',
        json: {
          agent_id: agent,
          session_id: i < 3 ? 's1' : 's2',
          model_id: i % 2 ? 'm-odd' : 'm-even',
          content: [{ role: 'user', content: `n${i}` }],
        },
      });
      ids.push(res.json.id);
    }
    const page1 = await api(suite.app.url, `/api/v1/contexts?agent_id=${agent}&limit=2`);
    expect(page1.json.items.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    expect(page1.json.items[0]).not.toHaveProperty('content');
    const page2 = await api(
      suite.app.url,
      `/api/v1/contexts?agent_id=${agent}&limit=2&cursor=${page1.json.next_cursor}`,
    );
    expect(page2.json.items.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const page3 = await api(
      suite.app.url,
      `/api/v1/contexts?agent_id=${agent}&limit=2&cursor=${page2.json.next_cursor}`,
    );
    expect(page3.json.items.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(page3.json.next_cursor).toBeNull();

    expect((await api(suite.app.url, `/api/v1/contexts?agent_id=${agent}&session_id=s2`)).json.items).toHaveLength(2);
    expect((await api(suite.app.url, `/api/v1/contexts?agent_id=${agent}&model_id=m-odd`)).json.items).toHaveLength(2);
    expect((await api(suite.app.url, `/api/v1/contexts?agent_id=${agent}&status=stored`)).json.items).toHaveLength(5);
    expect((await api(suite.app.url, `/api/v1/contexts?agent_id=${agent}&status=pending`)).json.items).toHaveLength(0);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(
      (await api(suite.app.url, `/api/v1/contexts?agent_id=${agent}&created_after=${future}`)).json.items,
    ).toHaveLength(0);
    expect(
      (await api(suite.app.url, `/api/v1/contexts?agent_id=${agent}&created_before=${future}`)).json.items,
    ).toHaveLength(5);
  });
});

describe('search', () => {
  it('finds the items that mention the query, with their positions', async () => {
    const content: Item[] = [
      { role: 'system', content: 'You answer about Postgres.' },
      { role: 'user', content: 'How do I vacuum a table?' },
      { role: 'assistant', content: 'Run VACUUM on it.' },
      { role: 'tool', content: 'unrelated' },
    ];
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'search', content },
    });
    const found = await api(suite.app.url, `/api/v1/contexts/${created.json.id}/search`, {
      method: 'POST',
      json: { query: 'vacuum' },
    });
    expect(found.status).toBe(200);
    expect(found.json.matches.map((m: { index: number }) => m.index)).toEqual([1, 2]);
    const onlyAssistant = await api(suite.app.url, `/api/v1/contexts/${created.json.id}/search`, {
      method: 'POST',
      json: { query: 'VACUUM', case_sensitive: true, roles: ['assistant'] },
    });
    expect(onlyAssistant.json.matches).toEqual([{ index: 2, item: content[2] }]);
  });
});
