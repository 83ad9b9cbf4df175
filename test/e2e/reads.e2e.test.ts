// Reads: the body cache (in-process LRU keyed by version, shared Redis tier for small bodies), ETag
// and If-None-Match, and large objects fetched by parallel ranged GETs.
import { describe, expect, it } from 'vitest';
import { api, itemsOfSize, sha256, waitUntilSettled } from '../helpers/contexts.ts';
import { freePort, spawnCtxvault } from '../helpers/processes.ts';
import { sample } from '../helpers/prometheus.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const suite = useSuite({ env: { MCP_CACHE_REDIS_MAX_ITEM_BYTES: '1MiB', MCP_CACHE_MAX_ITEM_BYTES: '4MiB' } });

const stats = async (url: string) => (await api(url, '/api/v1/cache')).json;

describe('body cache', () => {
  it('serves hot contexts from memory, and an update is never answered with the old body', async () => {
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'hot', content: itemsOfSize(400 * 1024) },
    });
    await waitUntilSettled(suite.app.url, created.json.id);
    const id = created.json.id;
    const before = await stats(suite.app.url);
    const first = await api(suite.app.url, `/api/v1/contexts/${id}`);
    const second = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(second.text).toBe(first.text);
    const after = await stats(suite.app.url);
    expect(after.misses - before.misses).toBe(1);
    expect(after.memory_hits - before.memory_hits).toBe(1);

    const appended = await api(suite.app.url, `/api/v1/contexts/${id}/items`, {
      method: 'POST',
      json: { items: [{ role: 'user', content: 'new' }] },
    });
    await waitUntilSettled(suite.app.url, id);
    expect(appended.json.version).toBe(2);
    const fresh = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(fresh.json.version).toBe(2);
    expect(fresh.json.content.at(-1)).toEqual({ role: 'user', content: 'new' });
  });

  it('lets concurrent misses for one body share one fetch from the blob store', async () => {
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'concurrent', content: itemsOfSize(600 * 1024) },
    });
    await waitUntilSettled(suite.app.url, created.json.id);
    const downloaded = async () =>
      sample(await (await fetch(`${suite.app.url}/metrics`)).text(), 'ctxvault_blob_downloaded_bytes_total') ?? 0;
    const before = await downloaded();
    const reads = await Promise.all(
      Array.from({ length: 8 }, () => api(suite.app.url, `/api/v1/contexts/${created.json.id}`)),
    );
    expect(new Set(reads.map((r) => r.text)).size).toBe(1);
    // one fetch of the segment's items (its trailer is not read)
    expect(await downloaded()).toBe(before + reads[0]!.json.storage.size_bytes);
  });

  it('shares small bodies with another API process through Redis', async () => {
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'shared', content: itemsOfSize(300 * 1024) },
    });
    await waitUntilSettled(suite.app.url, created.json.id);
    await api(suite.app.url, `/api/v1/contexts/${created.json.id}`);
    const port = await freePort();
    const other = await spawnCtxvault(
      'api',
      { ...suite.app.env, MCP_SERVER_PORT: String(port) },
      { readyLine: /API listening/ },
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      const read = await api(url, `/api/v1/contexts/${created.json.id}`, { headers: suite.app.headers });
      expect(read.status).toBe(200);
      expect(await stats(url)).toMatchObject({ shared_hits: 1, misses: 0 });
    } finally {
      await other.stop();
    }
  });
});

describe('conditional and large reads', () => {
  it('ETag is the version; If-None-Match answers 304', async () => {
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'etag', content: [{ role: 'user', content: 'x' }] },
    });
    const first = await api(suite.app.url, `/api/v1/contexts/${created.json.id}`);
    expect(first.headers.get('etag')).toBe('"1"');
    const again = await api(suite.app.url, `/api/v1/contexts/${created.json.id}`, {
      headers: { 'if-none-match': '"1"' },
    });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('a body larger than the cache item limit streams from S3 identical every time', async () => {
    const content = itemsOfSize(12 * MiB);
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'large-read', content },
    });
    await waitUntilSettled(suite.app.url, created.json.id);
    const before = await stats(suite.app.url);
    for (let i = 0; i < 2; i++) {
      const read = await api(suite.app.url, `/api/v1/contexts/${created.json.id}`);
      expect(sha256(JSON.stringify(read.json.content))).toBe(sha256(JSON.stringify(content)));
    }
    const after = await stats(suite.app.url);
    expect(after.memory_hits).toBe(before.memory_hits);
    expect(after.bytes).toBe(before.bytes);
  });
});
