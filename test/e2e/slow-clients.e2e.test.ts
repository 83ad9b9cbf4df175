// Slow clients against the real API: staging holds no database connection while a body trickles in,
// a body slower than limits.body_timeout is cut off with 408 and leaves nothing staged, and stagings
// beyond limits.max_concurrent_stagings are refused with 503 and Retry-After.

import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { api, waitUntilSettled } from '../helpers/contexts.ts';
import { queryRows } from '../helpers/database.ts';
import { lifecyclePass } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const BODY_TIMEOUT_MS = 8000;
/** lines sent at once: past the serializer's 64 KiB flush and the inline threshold, so staging starts */
const BURST = 600;
const SLOW_CLIENTS = 10;
const suite = useSuite({
  env: {
    MCP_STORAGE_INLINE_THRESHOLD: '4KiB',
    MCP_LIMITS_BODY_TIMEOUT: `${BODY_TIMEOUT_MS}ms`,
    MCP_LIMITS_MAX_CONCURRENT_STAGINGS: String(SLOW_CLIENTS),
    MCP_LIFECYCLE_STAGING_GRACE: '1s',
    MCP_STAGING_CHUNK_SIZE: '64KiB',
    // staging is under test: a create is staged as it arrives, not held for a direct upload first
    // (test/e2e/direct-writes.e2e.test.ts cuts off a slow direct one)
    MCP_STORAGE_S3_DIRECT_WRITES: 'false',
  },
});

const line = (i: number) => `${JSON.stringify({ role: 'user', content: `line ${i} ${'x'.repeat(100)}` })}\n`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { id: string; error?: { code: string } };
}

/**
 * An NDJSON create that sends its envelope and enough items to be staged at once, then one more
 * line every `everyMs` until `lines` were sent (or forever, until the server answers).
 */
function trickle(agent: string, { lines, everyMs }: { lines: number; everyMs: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const req = request(
      `${suite.app.url}/api/v1/contexts`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked', ...suite.app.headers },
      },
      (res) => {
        clearInterval(timer);
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    req.write(`${JSON.stringify({ agent_id: agent })}\n`);
    let sent = 0;
    while (sent < BURST) req.write(line(sent++));
    timer = setInterval(() => {
      if (sent >= lines) {
        clearInterval(timer);
        req.end();
        return;
      }
      req.write(line(sent++));
    }, everyMs);
  });
}

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  queryRows<T>(suite.db.url, text, params);

const staged = async () =>
  (
    await sql<{ marks: number; chunks: number }>(
      `select (select count(*)::int from staged_bodies b
                where not exists (select 1 from contexts c where c.id = b.context_id)) as marks,
              (select count(*)::int from staged_chunks s
                where not exists (select 1 from contexts c where c.id = s.context_id)) as chunks`,
    )
  )[0]!;

/** Waits until `count` bodies are being staged (their marks claimed, no row yet). */
async function untilStaging(count: number): Promise<void> {
  for (const deadline = Date.now() + 20_000; (await staged()).marks < count; ) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} stagings started`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('slow clients', () => {
  it('ten slow uploads hold no database connection: an eleventh staging gets 503, other writes are answered within a second', async () => {
    // a first write warms the API up (database connections, the tokenizer's tables)
    const warm = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'normal', content: [{ role: 'user', content: 'warm up' }] },
    });
    expect(warm.status).toBe(201);
    const uploads = Array.from({ length: SLOW_CLIENTS }, (_, i) =>
      trickle(`slow-${i}`, { lines: BURST + 16, everyMs: 300 }),
    );
    await untilStaging(SLOW_CLIENTS);

    // every staging slot is taken by a slow client: one more staged body is refused, with a hint when to retry
    const refused = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ agent_id: 'one-too-many' })}\n${Array.from({ length: BURST }, (_, i) => line(i)).join('')}`,
    });
    expect(refused.status, refused.text).toBe(503);
    expect(refused.json.error.code).toBe('staging_busy');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const res = await api(suite.app.url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'normal', content: [{ role: 'user', content: `hello ${i}` }] },
      });
      latencies.push(performance.now() - started);
      expect(res.status, res.text).toBe(201);
      expect((await api(suite.app.url, `/api/v1/contexts/${res.json.id}`)).status).toBe(200);
    }
    expect(Math.max(...latencies), `latencies ${latencies.map((l) => l.toFixed(0)).join(',')}`).toBeLessThan(1000);

    const answers = await Promise.all(uploads);
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    for (const answer of answers) {
      expect((await waitUntilSettled(suite.app.url, answer.json.id)).at(-1).status).toBe('stored');
      const read = await api(suite.app.url, `/api/v1/contexts/${answer.json.id}`);
      expect(read.json.content).toHaveLength(BURST + 16);
    }
  });

  it('a client slower than limits.body_timeout gets 408 JSON and leaves nothing staged', async () => {
    const started = Date.now();
    const answer = await trickle('too-slow', { lines: Number.POSITIVE_INFINITY, everyMs: 500 });
    expect(answer.status).toBe(408);
    expect(answer.json.error?.code).toBe('request_timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 100);
    expect(await sql(`select 1 from contexts where agent_id = 'too-slow'`)).toEqual([]);
    expect(await staged()).toEqual({ marks: 0, chunks: 0 });
  });

  it('a stage left incomplete by a killed API is never read as complete and is collected by the lifecycle pass', async () => {
    const cut = trickle('killed-mid-body', { lines: Number.POSITIVE_INFINITY, everyMs: 100 }).catch(() => null);
    await untilStaging(1);
    // its first chunks are committed, yet without a completion mark
    for (const deadline = Date.now() + 10_000; (await staged()).chunks === 0; ) {
      if (Date.now() > deadline) throw new Error('no chunk was staged');
      await new Promise((r) => setTimeout(r, 100));
    }
    await suite.app.api.stop('SIGKILL');
    await cut;
    expect(
      await sql(
        'select 1 from staged_bodies where completed_at is not null and not exists (select 1 from contexts c where c.id = context_id)',
      ),
    ).toEqual([]);
    // its writer is gone for good once grace + body timeout have passed since it started
    await new Promise((r) => setTimeout(r, BODY_TIMEOUT_MS + 1500));
    await lifecyclePass(suite.app.env);
    expect(await staged()).toEqual({ marks: 0, chunks: 0 });
  });
});
