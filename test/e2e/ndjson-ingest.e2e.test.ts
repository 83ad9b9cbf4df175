// Streaming ingest: application/x-ndjson (first line the envelope, then one item a line), validated
// line by line while it streams to staging, optionally gzip- or zstd-encoded.

import { request } from 'node:http';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { api, type Item, itemsOfSize, sha256, waitUntilSettled } from '../helpers/contexts.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const suite = useSuite({ env: { MCP_LIMITS_MAX_BODY_BYTES: '1MiB', MCP_LIMITS_MAX_CONTEXT_BYTES: '48MiB' } });

/** Sends only the headers and a first chunk of a body declared `length` long, and reads the answer. */
function earlyAnswer(url: string, length: number): Promise<{ status: number; json: { error: { message: string } } }> {
  return new Promise((resolve) => {
    const headers = { ...NDJSON, ...suite.app.headers, 'content-length': String(length) };
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      // the server closes the connection after answering (the body was never read): take the
      // answer as soon as it is complete
      res.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.length >= Number(res.headers['content-length'])) {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
          req.destroy();
        }
      });
    });
    req.on('error', () => {});
    req.write('{"agent_id":"nd-bad-early"}\n');
  });
}

function ndjson(envelope: object | null, items: Item[]): Buffer {
  const lines = [...(envelope ? [JSON.stringify(envelope)] : []), ...items.map((i) => JSON.stringify(i))];
  return Buffer.from(`${lines.join('\n')}\n`);
}

const NDJSON = { 'content-type': 'application/x-ndjson' };

async function leftovers(): Promise<{ rows: number; staged: number }> {
  const client = new pg.Client({ connectionString: suite.db.url });
  await client.connect();
  try {
    const rows = (await client.query(`select count(*)::int as n from contexts where agent_id like 'nd-bad%'`)).rows[0]
      .n;
    const staged = (
      await client.query(
        'select count(*)::int as n from staged_chunks s where not exists (select 1 from contexts c where c.id = s.context_id)',
      )
    ).rows[0].n;
    return { rows, staged };
  } finally {
    await client.end();
  }
}

describe('NDJSON ingest', () => {
  it('streams a context far over the JSON limit, gzip-encoded, and reads it back identical', async () => {
    const items = itemsOfSize(24 * MiB);
    const body = gzipSync(ndjson({ agent_id: 'nd', session_id: 's', metadata: { via: 'ndjson' } }, items));
    const res = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body,
      headers: { ...NDJSON, 'content-encoding': 'gzip' },
    });
    // larger than a part: written straight to its object, stored when answered
    expect(res.status).toBe(201);
    expect((await waitUntilSettled(suite.app.url, res.json.id)).at(-1).status).toBe('stored');
    const read = await api(suite.app.url, `/api/v1/contexts/${res.json.id}`);
    expect(read.json).toMatchObject({
      agent_id: 'nd',
      session_id: 's',
      metadata: { via: 'ndjson' },
      message_count: items.length,
    });
    expect(sha256(JSON.stringify(read.json.content))).toBe(sha256(JSON.stringify(items)));
  }, 120_000);

  it('appends NDJSON items (no envelope line), zstd-encoded', async () => {
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'nd-append', content: [{ role: 'system', content: 's' }] },
    });
    const added = itemsOfSize(2 * MiB);
    const res = await api(suite.app.url, `/api/v1/contexts/${created.json.id}/items`, {
      method: 'POST',
      body: zstdCompressSync(ndjson(null, added)),
      headers: { ...NDJSON, 'content-encoding': 'zstd' },
    });
    expect(res.status).toBe(202);
    await waitUntilSettled(suite.app.url, created.json.id);
    const read = await api(suite.app.url, `/api/v1/contexts/${created.json.id}`);
    expect(read.json.content).toEqual([{ role: 'system', content: 's' }, ...added]);
  });

  it('a JSON body may be gzip-encoded too', async () => {
    const content: Item[] = [{ role: 'user', content: 'compressed request' }];
    const res = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: gzipSync(JSON.stringify({ agent_id: 'gz-json', content })),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(res.status).toBe(201);
    expect((await api(suite.app.url, `/api/v1/contexts/${res.json.id}`)).json.content).toEqual(content);
  });

  it('a bad line far into a large body is refused with its line number, leaving nothing behind', async () => {
    const items = itemsOfSize(6 * MiB);
    const lines = ndjson({ agent_id: 'nd-bad' }, items).toString().split('\n');
    lines[300] = '{"role":"robot","content":"x"}';
    const res = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: lines.join('\n'),
      headers: NDJSON,
    });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('line 301');
    expect(res.json.error.details[0].path).toBe('line 301.role');
    expect(await leftovers()).toEqual({ rows: 0, staged: 0 });
  });

  it('a line that is not JSON, a bad envelope, and an empty body are 400s', async () => {
    const notJson = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: '{"agent_id":"nd-bad2"}\n{oops\n',
      headers: NDJSON,
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.message).toContain('line 2');
    const badEnvelope = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: '{"agent":"x"}\n',
      headers: NDJSON,
    });
    expect(badEnvelope.status).toBe(400);
    expect(badEnvelope.json.error.details.map((d: { path: string }) => d.path)).toContain('line 1.agent_id');
    const empty = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', body: '', headers: NDJSON });
    expect(empty.status).toBe(400);
    expect(await leftovers()).toEqual({ rows: 0, staged: 0 });
  });

  it('over max_context_bytes is 413 with the limit, nothing staged, also when the limit is hit after decompression', async () => {
    // the declared length is over the limit: refused before a byte of the body is read
    const plain = await earlyAnswer(`${suite.app.url}/api/v1/contexts`, 50 * MiB);
    expect(plain.status).toBe(413);
    expect(plain.json.error.message).toContain(`${48 * MiB} bytes`);
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"agent_id":"nd-bad-bomb"}\n'), Buffer.alloc(60 * MiB, 0x20)]));
    expect(bomb.length).toBeLessThan(MiB);
    const zipped = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: bomb,
      headers: { ...NDJSON, 'content-encoding': 'gzip' },
    });
    expect(zipped.status).toBe(413);
    expect(await leftovers()).toEqual({ rows: 0, staged: 0 });
  }, 60_000);

  it('an unknown Content-Encoding is 415 and broken gzip is 400', async () => {
    const br = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
    });
    expect(br.status).toBe(415);
    const broken = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: 'not gzip',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(broken.status).toBe(400);
    expect(broken.json.error.message).toMatch(/gzip/);
  });
});
