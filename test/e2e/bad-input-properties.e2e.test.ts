// Property-based bad input (fast-check) against a real deployment: random and malformed bodies,
// headers, ids, query strings, oversize fields, broken NDJSON and bad encodings at every route of
// /api/v1. Every request must get a 4xx JSON error {error:{code,message}} — never a 5xx — while the
// API process lives on and the database (contexts, staged_chunks) and the bucket stay as they were.
// About 400 requests in 15 s; CTXVAULT_TEST_FUZZ_SCALE=10 sends ten times as many. A failure
// prints fast-check's seed and the shrunk request; CTXVAULT_TEST_FUZZ_SEED=<seed> with the same
// scale and `-t <test name>` replays it.

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type BadRequest,
  badIfMatch,
  badListQuery,
  badTenant,
  bodyRoutes,
  brokenNdjson,
  contentEncoding,
  ID_ROUTES,
  malformedBody,
  notAnId,
  outOfRangeBody,
  staleIfMatch,
  unknownRoute,
  unstorableBody,
  unstorableListQuery,
  wrongContentType,
} from '../helpers/bad-requests.ts';
import { api, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { type Deployment, startDeployment } from '../helpers/deployment.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';

const MAX_BODY_BYTES = 64 * 1024;

let db: TestDatabase;
let bucket: TestBucket;
let app: Deployment;
let sql: pg.Client;
/** one context stored inline, one in the bucket; both at version 1 */
let ids: [string, string];
/** the database and bucket before each test, which no bad request may change */
let baseline: string;

beforeAll(async () => {
  db = await createFileDatabase();
  bucket = await createTestBucket(inject('s3Endpoint'));
  app = await startDeployment(
    { databaseUrl: db.url, redisUrl: inject('redisUrl'), s3Endpoint: inject('s3Endpoint'), bucket: bucket.name },
    // auth.mode "none" on loopback: requests name their tenant with X-Tenant-Id, which this suite fuzzes
    { MCP_LIMITS_MAX_BODY_BYTES: String(MAX_BODY_BYTES), MCP_STORAGE_INLINE_THRESHOLD: '1KiB', MCP_AUTH_MODE: 'none' },
  );
  const inline = await api(app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: 'a', content: [{ role: 'user', content: 'hello' }] },
  });
  const staged = await api(app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: 'a', content: itemsOfSize(8 * 1024, 1024) },
  });
  expect([inline.status, staged.status]).toEqual([201, 202]);
  await waitUntilSettled(app.url, staged.json.id);
  ids = [inline.json.id, staged.json.id];
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  expect(JSON.parse(await snapshot()).objects).toHaveLength(1);
});

beforeEach(async () => {
  baseline = await snapshot();
});

afterAll(async () => {
  await sql?.end();
  await app?.stop();
  await bucket?.drop();
  await db?.drop();
});

/** Every row of contexts and staged_chunks, and every key of the bucket. */
async function snapshot(): Promise<string> {
  const contexts = await sql.query('select * from contexts order by id');
  const staged = await sql.query(
    'select context_id, version, seq, md5(data) as md5 from staged_chunks order by 1, 2, 3',
  );
  return JSON.stringify({ contexts: contexts.rows, staged: staged.rows, objects: (await bucket.keys()).sort() });
}

async function send(request: BadRequest) {
  const res = await fetch(`${app.url}${request.path}`, {
    method: request.method,
    headers: request.headers,
    // bytes, so that fetch adds no Content-Type of its own
    body: request.body === undefined ? undefined : Buffer.from(request.body),
  }).catch((err: unknown) => {
    throw new Error(
      `the API did not answer (exit code ${app.api.child.exitCode}); its last output:\n${app.api.output().slice(-4_000)}`,
      { cause: err },
    );
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The property every bad request must keep; `status` narrows the 4xx when the fault decides it. */
async function refusedCleanly(request: BadRequest, status?: number | number[]): Promise<void> {
  const res = await send(request);
  const shown = `${request.method} ${request.path.slice(0, 300)} ${JSON.stringify(request.headers).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, shown).toBeGreaterThanOrEqual(400);
  expect(res.status, shown).toBeLessThan(500);
  if (status !== undefined) expect([status].flat(), shown).toContain(res.status);
  expect(res.type, shown).toMatch(/^application\/json/);
  const body = JSON.parse(res.text);
  expect(body, shown).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  expect(app.api.child.exitCode, `the API exited after ${shown}`).toBeNull();
  expect(JSON.parse(await snapshot()), `the database or bucket changed after ${shown}`).toEqual(JSON.parse(baseline));
}

const existingId = () => fc.constantFrom(...ids);
const JSON_TYPE = { 'content-type': 'application/json' };
const SCALE = Number(process.env.CTXVAULT_TEST_FUZZ_SCALE ?? 1);
const SEED =
  process.env.CTXVAULT_TEST_FUZZ_SEED === undefined ? undefined : Number(process.env.CTXVAULT_TEST_FUZZ_SEED);
const check = <Ts>(property: fc.IAsyncProperty<Ts>, numRuns: number) =>
  fc.assert(property, { numRuns: Math.ceil(numRuns * SCALE), seed: SEED });

describe('bad input, generated (fast-check)', () => {
  it('ids that are not UUIDs at every route that takes one → 400', async () => {
    await check(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), notAnId, async (route, id) => {
        const body = 'body' in route ? JSON.stringify(route.body) : undefined;
        // a segment with an encoded "/" may be routed nowhere: 404 is as right as 400 then
        await refusedCleanly(
          { method: route.method, path: `/api/v1/contexts/${id}${route.suffix}`, headers: body ? JSON_TYPE : {}, body },
          [400, 404],
        );
      }),
      40,
    );
  });

  it('UUIDs of no context, with bodies that would be accepted → 404, nothing created', async () => {
    await check(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), fc.uuid(), async (route, id) => {
        const body = 'body' in route ? JSON.stringify(route.body) : undefined;
        await refusedCleanly(
          { method: route.method, path: `/api/v1/contexts/${id}${route.suffix}`, headers: body ? JSON_TYPE : {}, body },
          404,
        );
      }),
      20,
    );
  });

  it('malformed, mistyped, incomplete, oversize-field and invalid UTF-8 JSON bodies at every body route → 400', async () => {
    const routes = fc.constantFrom(...ids).chain((id) => fc.constantFrom(...bodyRoutes(id)));
    await check(
      fc.asyncProperty(
        routes.chain((route) => fc.tuple(fc.constant(route), malformedBody(route))),
        async ([route, body]) => {
          await refusedCleanly({ method: route.method, path: route.path, headers: JSON_TYPE, body }, 400);
        },
      ),
      70,
    );
  });

  it('bodies the schema accepts with text or nesting the database cannot hold (NUL, lone surrogates, 65+ levels) → 400', async () => {
    const routes = fc.constantFrom(...ids).chain((id) => fc.constantFrom(...bodyRoutes(id)));
    await check(
      fc.asyncProperty(
        routes.chain((route) => fc.tuple(fc.constant(route), unstorableBody(route))),
        async ([route, body]) => {
          await refusedCleanly({ method: route.method, path: route.path, headers: JSON_TYPE, body }, 400);
        },
      ),
      40,
    );
  });

  it('counts beyond PostgreSQL integers and dates in year 0 → 400 (creates, and writes of an inline context)', async () => {
    const routes = fc.constantFrom(...bodyRoutes(ids[0]).filter((route) => route.kind !== 'search'));
    await check(
      fc.asyncProperty(
        routes.chain((route) => fc.tuple(fc.constant(route), outOfRangeBody(route))),
        async ([route, body]) => {
          await refusedCleanly({ method: route.method, path: route.path, headers: JSON_TYPE, body }, 400);
        },
      ),
      20,
    );
  });

  // a regression case: the new version's staged body used to be left behind when the row update threw
  it('an append to a staged context whose token count overflows leaves nothing behind', async () => {
    const body = JSON.stringify({ items: [{ role: 'user', content: 'x', tokens: 2 ** 31 - 1 }] });
    await refusedCleanly({ method: 'POST', path: `/api/v1/contexts/${ids[1]}/items`, headers: JSON_TYPE, body }, 400);
  });

  it('valid bodies under another Content-Type, or none → 415', async () => {
    const routes = existingId().chain((id) => fc.constantFrom(...bodyRoutes(id)));
    await check(
      fc.asyncProperty(routes, wrongContentType, async (route, type) => {
        await refusedCleanly(
          {
            method: route.method,
            path: route.path,
            headers: type === undefined ? {} : { 'content-type': type },
            body: JSON.stringify(route.body),
          },
          415,
        );
      }),
      25,
    );
  });

  it('valid JSON bodies under a Content-Encoding the API does not decode (not gzip or zstd), compressed or not → 415', async () => {
    const routes = existingId().chain((id) => fc.constantFrom(...bodyRoutes(id)));
    await check(
      fc.asyncProperty(routes, contentEncoding, fc.boolean(), async (route, coding, compress) => {
        const text = JSON.stringify(route.body);
        const body = compress ? gzipSync(text) : text;
        await refusedCleanly(
          { method: route.method, path: route.path, headers: { ...JSON_TYPE, 'content-encoding': coding }, body },
          415,
        );
      }),
      25,
    );
  });

  it('broken NDJSON → 4xx', async () => {
    const routes = existingId().chain((id) => fc.constantFrom(...bodyRoutes(id)));
    await check(
      fc.asyncProperty(routes, brokenNdjson, async (route, body) => {
        await refusedCleanly({
          method: route.method,
          path: route.path,
          headers: { 'content-type': 'application/x-ndjson' },
          body,
        });
      }),
      20,
    );
  });

  it('a bad X-Tenant-Id on any otherwise valid request → 400', async () => {
    const requests = existingId().chain((id) =>
      fc.oneof(
        fc.constantFrom(...bodyRoutes(id)).map((route) => ({
          method: route.method,
          path: route.path,
          body: JSON.stringify(route.body) as string | undefined,
        })),
        fc.constantFrom(
          { method: 'GET', path: '/api/v1/contexts', body: undefined },
          { method: 'GET', path: `/api/v1/contexts/${id}`, body: undefined },
          { method: 'GET', path: `/api/v1/contexts/${id}/status`, body: undefined },
          { method: 'DELETE', path: `/api/v1/contexts/${id}`, body: undefined },
          { method: 'GET', path: '/api/v1/jobs/some-job', body: undefined },
        ),
      ),
    );
    await check(
      fc.asyncProperty(requests, badTenant, async (request, tenant) => {
        await refusedCleanly(
          { ...request, headers: { ...(request.body ? JSON_TYPE : {}), 'x-tenant-id': tenant } },
          400,
        );
      }),
      30,
    );
  });

  it('replace, append and delete with an unreadable If-Match → 400, with a stale one → 412', async () => {
    const conditional = existingId().chain((id) =>
      fc.constantFrom(...bodyRoutes(id).filter((route) => route.method === 'PUT' || route.path.endsWith('/items')), {
        method: 'DELETE',
        path: `/api/v1/contexts/${id}`,
        body: undefined,
      }),
    );
    await check(
      fc.asyncProperty(
        conditional,
        fc.oneof(
          badIfMatch.map((tag) => [tag, 400] as const),
          staleIfMatch(1).map((tag) => [tag, 412] as const),
        ),
        async (route, [tag, status]) => {
          const body = route.body === undefined ? undefined : JSON.stringify(route.body);
          await refusedCleanly(
            { method: route.method, path: route.path, headers: { ...(body ? JSON_TYPE : {}), 'if-match': tag }, body },
            status,
          );
        },
      ),
      30,
    );
  });

  it('list queries with unknown, mistyped, out-of-range, oversize or badly escaped parameters → 400', async () => {
    await check(
      fc.asyncProperty(badListQuery, async (query) => {
        await refusedCleanly({ method: 'GET', path: `/api/v1/contexts?${query}`, headers: {} }, 400);
      }),
      40,
    );
  });

  it('list filters with NUL in them → 400', async () => {
    await check(
      fc.asyncProperty(unstorableListQuery, async (query) => {
        await refusedCleanly({ method: 'GET', path: `/api/v1/contexts?${query}`, headers: {} }, 400);
      }),
      10,
    );
  });

  it('job ids: malformed → 400, unknown → 404', async () => {
    await check(
      fc.asyncProperty(fc.oneof(notAnId, fc.stringMatching(/^[A-Za-z0-9._-]{1,200}$/)), async (id) => {
        await refusedCleanly({ method: 'GET', path: `/api/v1/jobs/${id}`, headers: {} }, [400, 404]);
      }),
      20,
    );
  });

  it('unknown routes and methods → 404', async () => {
    await check(
      fc.asyncProperty(existingId().chain(unknownRoute), async ({ method, path }) => {
        await refusedCleanly({ method, path, headers: {} }, 404);
      }),
      25,
    );
  });

  it('bodies over limits.max_body_bytes, declared or chunked → 413', async () => {
    await check(
      fc.asyncProperty(
        fc.integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES }),
        fc.boolean(),
        async (size, chunked) => {
          const body = JSON.stringify({ agent_id: 'a', content: [{ role: 'user', content: 'x'.repeat(size) }] });
          if (!chunked)
            return refusedCleanly({ method: 'POST', path: '/api/v1/contexts', headers: JSON_TYPE, body }, 413);
          const res = await fetch(`${app.url}/api/v1/contexts`, {
            method: 'POST',
            headers: JSON_TYPE,
            body: new Blob([body]).stream(),
            duplex: 'half',
          } as RequestInit);
          expect(res.status).toBe(413);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
          expect(await snapshot()).toBe(baseline);
        },
      ),
      10,
    );
  });

  it('the API still answers, and both contexts read as before', async () => {
    expect(app.api.child.exitCode).toBeNull();
    expect((await api(app.url, '/healthz')).status).toBe(200);
    for (const id of ids) expect((await api(app.url, `/api/v1/contexts/${id}`)).json.version).toBe(1);
    expect(await snapshot()).toBe(baseline);
  });
});
