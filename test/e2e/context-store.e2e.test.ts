// The whole write-and-read path, end to end: real `ctxvault api` and `ctxvault worker` processes on
// real Postgres, Redis and S3 (moto), driven with real HTTP requests.

import { HeadObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type Item, itemsOfSize, type JsonAnswer, sha256, waitUntilSettled } from '../helpers/contexts.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
// the job's upload progress is under test here: large creates are staged for the worker, not
// written straight to their object by the API (test/e2e/direct-writes.e2e.test.ts)
const suite = useSuite({ env: { MCP_STORAGE_S3_DIRECT_WRITES: 'false' } });

async function rowOf(id: string): Promise<Record<string, unknown> | undefined> {
  const client = new pg.Client({ connectionString: suite.db.url });
  await client.connect();
  try {
    const { rows } = await client.query('select * from contexts where id = $1', [id]);
    return rows[0];
  } finally {
    await client.end();
  }
}

describe('small contexts', () => {
  it('stores a 1 KB context inline, answers 201 and reads it back identical', async () => {
    const content: Item[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'x'.repeat(900) },
      { role: 'assistant', content: 'ok', tokens: 1 },
    ];
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'agent-1', session_id: 'sess-1', model_id: 'gpt-x', content, metadata: { team: 'a' } },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/v1/contexts/${created.json.id}`);
    expect(created.json).toMatchObject({ status: 'stored', version: 1, tenant_id: 'default', message_count: 3 });
    // items without tokens are counted by the server (o200k_base): 'You are terse.' is 4 tokens
    expect(created.json.current_tokens).toBeGreaterThan(1 + 4);
    expect(created.json.storage.provider).toBe('database');

    const read = await api(suite.app.url, `/api/v1/contexts/${created.json.id}`);
    expect(read.status).toBe(200);
    expect(read.json.content).toEqual(content);
    // stored as sent: the count lives beside the items, never in them
    expect(read.json.content[0]).not.toHaveProperty('tokens');
    expect(read.json).toMatchObject({ id: created.json.id, agent_id: 'agent-1', metadata: { team: 'a' } });
    expect(read.headers.get('etag')).toBe('"1"');
  });
});

describe('a 50 MiB context', () => {
  const content = itemsOfSize(50 * MiB);
  let id: string;
  let statuses: JsonAnswer[];

  beforeAll(async () => {
    const started = performance.now();
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'agent-big', content },
    });
    const acknowledged = performance.now();
    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ status: 'pending', version: 1 });
    expect(created.json.job_id).toBe(`upload-${created.json.id}-v1`);
    expect(created.headers.get('location')).toBe(`/api/v1/contexts/${created.json.id}/status`);
    id = created.json.id;
    // readable from staging before its upload has finished
    const early = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(early.status).toBe(200);
    expect(early.json.content.length).toBe(content.length);
    statuses = await waitUntilSettled(suite.app.url, id);
    const stored = performance.now();
    const mib = JSON.stringify(content).length / MiB;
    console.info(
      `50 MiB ingest: answered 202 in ${Math.round(acknowledged - started)} ms, stored after ${Math.round(stored - started)} ms ` +
        `(${(mib / ((stored - started) / 1000)).toFixed(1)} MiB/s end to end)`,
    );
  }, 180_000);

  it('reports byte progress on its job and reaches stored', async () => {
    const last = statuses.at(-1);
    expect(last.status).toBe('stored');
    // the row flips inside the job, so the job itself completes a moment later
    await expect
      .poll(async () => (await api(suite.app.url, `/api/v1/jobs/${last.job.id}`)).json.state)
      .toBe('completed');
    expect(last.job.progress.bytes).toBe(last.job.progress.total);
    expect(last.job.progress.total).toBeGreaterThan(50 * MiB);
    expect(last.job.progress.percent).toBe(100);
    // every progress seen on the way is consistent and never goes backwards
    const seen = statuses.map((s) => s.job?.progress?.bytes ?? 0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('reads back byte-identical', async () => {
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.status).toBe(200);
    expect(read.json.status).toBe('stored');
    expect(read.json.content.length).toBe(content.length);
    expect(sha256(JSON.stringify(read.json.content))).toBe(sha256(JSON.stringify(content)));
  });

  it('is in S3 under the mapped key, encrypted with AES256, in parts of the configured size', async () => {
    const row = await rowOf(id);
    const key = row!.storage_key as string;
    expect(key).toMatch(new RegExp(`^contexts/[0-9a-f]{2}/${id}/1\\.[0-9a-f-]{36}\\.json$`));
    const head = await suite.bucket.client.send(new HeadObjectCommand({ Bucket: suite.bucket.name, Key: key }));
    expect(head.ServerSideEncryption).toBe('AES256');
    // the items, then one trailer line describing them
    const trailerBytes = head.ContentLength! - Number(row!.size_bytes);
    expect(trailerBytes).toBeGreaterThan(100);
    expect(trailerBytes).toBeLessThan(1024);
    const expectedParts = Math.ceil(head.ContentLength! / (5 * MiB));
    expect(head.ETag?.replaceAll('"', '')).toMatch(new RegExp(`-${expectedParts}$`));
    expect(head.Metadata).toMatchObject({
      'context-id': id,
      version: '1',
      sha256: row!.sha256,
      'first-item': '0',
      'item-count': String(content.length),
    });
    expect(row).toMatchObject({ status: 'stored', storage_provider: 's3', encryption: 'AES256' });
  });
});
