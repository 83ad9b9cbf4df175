// A create larger than a part goes straight to its object as it arrives (docs/storage-model.md,
// "Writing a large create straight to its object"): stored when answered, byte for byte as sent,
// counted later by the worker; staged after all when S3 refuses the upload; a 503 naming the blob
// store, with nothing left behind, when S3 fails later; aborted when the client is cut off; and
// rebuilt from the bucket like any object. S3 sits behind the chaos proxy, one fault at a time.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ChaosProxy, type ChaosRequest, startChaosProxy } from '../helpers/chaos-proxy.ts';
import { api, waitUntilSettled } from '../helpers/contexts.ts';
import { queryRows } from '../helpers/database.ts';
import { startDeployment } from '../helpers/deployment.ts';
import { runCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const BODY_TIMEOUT_MS = 10_000;
let chaos: ChaosProxy;
afterAll(() => chaos?.close());
afterEach(() => chaos.clearRules());

const ENV = {
  MCP_LIMITS_BODY_TIMEOUT: `${BODY_TIMEOUT_MS}ms`,
  MCP_STORAGE_S3_MAX_ATTEMPTS: '2',
  MCP_STORAGE_S3_REQUEST_TIMEOUT: '5s',
  MCP_QUEUE_BACKOFF: '500ms',
  MCP_CACHE_MAX_BYTES: '0',
  // no lifecycle pass may abort an upload left open (moto dates every upload 2010): the test must see it
  MCP_LIFECYCLE_INTERVAL: '24h',
  MCP_LIFECYCLE_MULTIPART_GRACE: '10000d',
};
const suite = useSuite({
  env: ENV,
  services: async (direct) => {
    chaos = await startChaosProxy(direct.s3Endpoint, { seed: 7 });
    return { ...direct, s3Endpoint: chaos.url };
  },
});

/** Item lines of about `bytes`, spaced as no serializer would write them: they must be stored as sent. */
function itemLines(bytes: number): string[] {
  const lines: string[] = [];
  for (let total = 0, i = 0; total < bytes; i++) {
    const line = `{"role" : "${i % 2 ? 'assistant' : 'user'}",  "content":"${i} ${randomBytes(6000).toString('base64')}"}`;
    lines.push(line);
    total += line.length + 1;
  }
  return lines;
}

const ndjson = (agent: string, lines: string[]) =>
  Buffer.from(`${JSON.stringify({ agent_id: agent })}\n${lines.join('\n')}\n`);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { id: string; status?: string; error?: { code: string; message: string; details?: { cause?: string } } };
}

/**
 * POSTs an NDJSON body to `url`; with `stall`, sends only the first `stall` bytes and then nothing
 * (the request stays open). Resolves with the answer, however early it comes.
 */
function post(url: string, headers: Record<string, string>, body: Buffer, stall?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/contexts`,
      { method: 'POST', headers: { ...headers, 'content-type': 'application/x-ndjson' }, agent: false },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) });
          req.destroy();
        });
        res.on('error', reject);
      },
    );
    // an answer that comes before the whole body was sent may cut the sending short
    req.on('error', () => {});
    if (stall === undefined) req.end(body);
    else req.write(body.subarray(0, stall));
  });
}

const uploadsOpen = async () =>
  (await suite.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: suite.bucket.name }))).Uploads?.length ?? 0;
const rowsOf = async (agent: string) =>
  (
    await queryRows<{ n: number }>(suite.db.url, 'select count(*)::int as n from contexts where agent_id = $1', [agent])
  )[0]!.n;
const isPart = (n: number) => (r: ChaosRequest) => r.method === 'PUT' && r.query.get('partNumber') === String(n);

async function rawObject(key: string): Promise<Buffer> {
  const got = await suite.bucket.client.send(new GetObjectCommand({ Bucket: suite.bucket.name, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** Until the worker has counted the context's tokens. */
async function untilCounted(url: string, id: string): Promise<void> {
  await expect
    .poll(async () => (await api(url, `/api/v1/contexts/${id}/status`)).json, { timeout: 120_000, interval: 100 })
    .toMatchObject({ status: 'stored', tokens_final: true });
}

describe('a large create written straight to its object', () => {
  it('is stored when answered, its object the items as sent then its trailer; counted later', async () => {
    const lines = itemLines(12 * MiB);
    const res = await post(suite.app.url, suite.app.headers, ndjson('direct-plain', lines));
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    // stored when answered; its counts are the worker's, later
    expect(res.json).toMatchObject({ status: 'stored', tokens_final: false });
    const { id } = res.json;
    const answered = (await api(suite.app.url, `/api/v1/contexts/${id}`)).json;
    expect(answered).toMatchObject({ status: 'stored', message_count: lines.length });
    expect(answered.storage).toMatchObject({ content_encoding: 'identity', key: expect.stringContaining(`/${id}/1.`) });
    // nothing of it went through staging
    expect(await queryRows(suite.db.url, 'select 1 from staged_bodies where context_id = $1', [id])).toEqual([]);

    const object = await rawObject(answered.storage.key);
    const items = Buffer.from(`${lines.join('\n')}\n`);
    expect(object.subarray(0, items.length).equals(items)).toBe(true);
    const trailer = JSON.parse(object.subarray(items.length).toString());
    const [segment] = await queryRows<{ id: string; sha256: string }>(
      suite.db.url,
      'select id, sha256 from segments where context_id = $1',
      [id],
    );
    expect(trailer).toMatchObject({
      ctxvault_segment: 1,
      context_id: id,
      segment_id: segment!.id,
      version: 1,
      first_item: 0,
      item_count: lines.length,
      size_bytes: items.length,
      sha256: segment!.sha256,
      kind: 'write',
      list: { version: 1, segments: [segment!.id] },
      context: { id, agent_id: 'direct-plain', version: 1 },
    });
    // its metadata was fixed before the items came: their count and sha256 are in the trailer only
    const head = await suite.bucket.client.send(
      new HeadObjectCommand({ Bucket: suite.bucket.name, Key: answered.storage.key }),
    );
    expect(head.Metadata).toMatchObject({ 'context-id': id, 'segment-id': segment!.id, version: '1' });
    expect(head.Metadata).not.toHaveProperty('item-count');

    await untilCounted(suite.app.url, id);
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.json.content).toEqual(lines.map((l) => JSON.parse(l)));
    expect(read.json.current_tokens).toBeGreaterThan(0);
    expect(await uploadsOpen()).toBe(0);
  }, 180_000);

  it('compressed with zstd and sealed: stored when answered, read back identical, and rebuilt from the bucket', async () => {
    const env = {
      ...ENV,
      MCP_STORAGE_COMPRESSION: 'zstd',
      MCP_ENCRYPTION_MODE: 'envelope',
      MCP_ENCRYPTION_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    const app = await startDeployment(suite.services, env);
    try {
      const lines = itemLines(12 * MiB);
      const res = await post(app.url, app.headers, ndjson('direct-sealed', lines));
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      const { id } = res.json;
      const view = (await api(app.url, `/api/v1/contexts/${id}`)).json;
      expect(view.storage).toMatchObject({ content_encoding: 'zstd', key: expect.stringMatching(/\.json\.zst$/) });
      const head = await suite.bucket.client.send(
        new HeadObjectCommand({ Bucket: suite.bucket.name, Key: view.storage.key }),
      );
      expect(head.Metadata).toMatchObject({ encryption: 'ctxvault-envelope-v1', 'content-encoding': 'zstd' });
      const object = await rawObject(view.storage.key);
      expect(object.includes(Buffer.from(lines[0]!.slice(0, 40)))).toBe(false);
      await untilCounted(app.url, id);
      const expected = lines.map((l) => JSON.parse(l));
      expect((await api(app.url, `/api/v1/contexts/${id}`)).json.content).toEqual(expected);

      // the database loses the context: the bucket alone brings it back
      for (const table of ['segments', 'versions', 'data_keys']) {
        await queryRows(suite.db.url, `delete from ${table} where context_id = $1`, [id]);
      }
      await queryRows(suite.db.url, 'delete from contexts where id = $1', [id]);
      expect((await api(app.url, `/api/v1/contexts/${id}`)).status).toBe(404);
      const run = await runCtxvault(['rebuild', '--from-bucket'], { ...app.env, MCP_LOGGING_LEVEL: 'warn' });
      expect(run.code, run.output).toBe(0);
      const rebuilt = await api(app.url, `/api/v1/contexts/${id}`);
      expect(rebuilt.status).toBe(200);
      expect(rebuilt.json).toMatchObject({ message_count: lines.length, version: 1 });
      expect(rebuilt.json.content).toEqual(expected);
    } finally {
      await app.stop();
    }
  }, 240_000);

  it('S3 refusing the upload at the start: accepted into staging, stored once S3 is back', async () => {
    chaos.addRule({ match: (r) => r.method === 'POST' && r.query.has('uploads'), fault: 'slow-down' });
    const lines = itemLines(8 * MiB);
    const res = await post(suite.app.url, suite.app.headers, ndjson('direct-refused', lines));
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    const { id } = res.json;
    expect(await queryRows(suite.db.url, 'select 1 from staged_bodies where context_id = $1', [id])).toHaveLength(1);
    chaos.clearRules();
    const last = (await waitUntilSettled(suite.app.url, id)).at(-1);
    expect(last.status).toBe('stored');
    expect((await api(suite.app.url, `/api/v1/contexts/${id}`)).json.content).toEqual(lines.map((l) => JSON.parse(l)));
  }, 180_000);

  it('S3 failing after the first part: 503 naming the blob store, no row, no object, no open upload', async () => {
    const keysBefore = (await suite.bucket.keys()).length;
    chaos.addRule({ match: isPart(2), fault: 'slow-down' });
    const res = await post(suite.app.url, suite.app.headers, ndjson('direct-failed', itemLines(12 * MiB)));
    expect(res.status, JSON.stringify(res.json)).toBe(503);
    expect(res.json.error).toMatchObject({ code: 'blob_store_unavailable', details: { cause: 'throttled' } });
    expect(res.headers['retry-after']).toBeDefined();
    expect(await rowsOf('direct-failed')).toBe(0);
    expect(await uploadsOpen()).toBe(0);
    expect((await suite.bucket.keys()).length).toBe(keysBefore);
    expect(await queryRows(suite.db.url, 'select 1 from staged_chunks')).toEqual([]);
  }, 180_000);

  it('a client cut off mid-body: 408 after limits.body_timeout, or gone; the upload is aborted, no row', async () => {
    const body = ndjson('direct-slow', itemLines(12 * MiB));
    // past the first part: the upload is under way when the client stops sending
    const slow = await post(suite.app.url, suite.app.headers, body, 8 * MiB);
    expect(slow.status).toBe(408);
    expect(await uploadsOpen()).toBe(0);
    expect(await rowsOf('direct-slow')).toBe(0);

    const gone = request(`${suite.app.url}/api/v1/contexts`, {
      method: 'POST',
      headers: { ...suite.app.headers, 'content-type': 'application/x-ndjson' },
      agent: false,
    });
    gone.on('error', () => {});
    gone.write(ndjson('direct-gone', itemLines(12 * MiB)).subarray(0, 8 * MiB));
    await expect.poll(uploadsOpen, { timeout: 30_000, interval: 50 }).toBeGreaterThan(0);
    gone.destroy();
    await expect.poll(uploadsOpen, { timeout: 30_000, interval: 100 }).toBe(0);
    expect(await rowsOf('direct-gone')).toBe(0);
  }, 180_000);
});
