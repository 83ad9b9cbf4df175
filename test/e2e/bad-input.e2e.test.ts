// Bad input of each kind gets a 4xx with a JSON error naming the problem, and changes nothing.

import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/contexts.ts';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite();
let existing: string;

beforeAll(async () => {
  const created = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: 'a', content: [{ role: 'user', content: 'hi' }] },
  });
  existing = created.json.id;
});

async function snapshot(): Promise<string> {
  const client = new pg.Client({ connectionString: suite.db.url });
  await client.connect();
  try {
    const contexts = await client.query('select id, version, status, sha256 from contexts order by id');
    const staged = await client.query('select count(*)::int as n from staged_chunks');
    return JSON.stringify({ contexts: contexts.rows, staged: staged.rows[0].n, objects: await suite.bucket.keys() });
  } finally {
    await client.end();
  }
}

const json = { 'content-type': 'application/json' };
const cases: { name: string; path: () => string; init: RequestInit; status: number; code: string; field?: string }[] = [
  {
    name: 'malformed JSON',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id": "a", ' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'missing agent_id',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"content": []}' },
    status: 400,
    code: 'invalid_request',
    field: 'agent_id',
  },
  {
    name: 'bad role',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a","content":[{"role":"robot","content":"x"}]}' },
    status: 400,
    code: 'invalid_request',
    field: 'content.0.role',
  },
  {
    name: 'unknown field',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a","colour":"red"}' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'body is not an object',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '[1,2,3]' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'content is not an array',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a","content":"hello"}' },
    status: 400,
    code: 'invalid_request',
    field: 'content',
  },
  {
    name: 'negative max_tokens',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a","max_tokens":-1}' },
    status: 400,
    code: 'invalid_request',
    field: 'max_tokens',
  },
  {
    name: 'invalid UTF-8',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'invalid UTF-8 in an NDJSON item line',
    path: () => '/api/v1/contexts',
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: Buffer.concat([
        Buffer.from('{"agent_id":"a"}\n{"role":"user","content":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n'),
      ]),
    },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'wrong Content-Type',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"agent_id":"a"}' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'no Content-Type',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', body: new Blob(['{"agent_id":"a"}']) },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'id that is not a UUID',
    path: () => '/api/v1/contexts/not-a-uuid',
    init: {},
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'path traversal in id',
    path: () => '/api/v1/contexts/..%2F..%2Fetc%2Fpasswd',
    init: {},
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'unknown context',
    path: () => '/api/v1/contexts/01890000-0000-7000-8000-000000000000',
    init: {},
    status: 404,
    code: 'not_found',
  },
  {
    name: 'status of unknown context',
    path: () => '/api/v1/contexts/01890000-0000-7000-8000-000000000000/status',
    init: {},
    status: 404,
    code: 'not_found',
  },
  { name: 'unknown job', path: () => '/api/v1/jobs/upload-nothing-v1', init: {}, status: 404, code: 'not_found' },
  { name: 'bad job id', path: () => '/api/v1/jobs/a:b', init: {}, status: 400, code: 'invalid_request' },
  {
    name: 'non-numeric limit',
    path: () => '/api/v1/contexts?limit=lots',
    init: {},
    status: 400,
    code: 'invalid_request',
    field: 'limit',
  },
  {
    name: 'limit too large',
    path: () => '/api/v1/contexts?limit=100000',
    init: {},
    status: 400,
    code: 'invalid_request',
    field: 'limit',
  },
  {
    name: 'unknown status filter',
    path: () => '/api/v1/contexts?status=lost',
    init: {},
    status: 400,
    code: 'invalid_request',
    field: 'status',
  },
  {
    name: 'bad date filter',
    path: () => '/api/v1/contexts?created_after=yesterday',
    init: {},
    status: 400,
    code: 'invalid_request',
    field: 'created_after',
  },
  {
    name: 'unknown query parameter',
    path: () => '/api/v1/contexts?colour=red',
    init: {},
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'forged cursor',
    path: () => '/api/v1/contexts?cursor=bm90LWFuLWlk',
    init: {},
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'bad tenant header',
    path: () => '/api/v1/contexts',
    init: { headers: { 'x-tenant-id': 'a b/c' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'append with no items',
    path: () => `/api/v1/contexts/${existing}/items`,
    init: { method: 'POST', headers: json, body: '{"items":[]}' },
    status: 400,
    code: 'invalid_request',
    field: 'items',
  },
  {
    name: 'bad If-Match',
    path: () => `/api/v1/contexts/${existing}`,
    init: { method: 'PUT', headers: { ...json, 'if-match': 'yesterday' }, body: '{"content":[]}' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'stale If-Match on delete',
    path: () => `/api/v1/contexts/${existing}`,
    init: { method: 'DELETE', headers: { 'if-match': '"7"' } },
    status: 412,
    code: 'precondition_failed',
  },
  {
    name: 'empty search query',
    path: () => `/api/v1/contexts/${existing}/search`,
    init: { method: 'POST', headers: json, body: '{"query":""}' },
    status: 400,
    code: 'invalid_request',
    field: 'query',
  },
  { name: 'unknown route', path: () => '/api/v1/nothing-here', init: {}, status: 404, code: 'not_found' },
  // found by the property-based tests (bad-input-properties.e2e.test.ts): each answered 201 or 500 before
  {
    name: 'Content-Encoding the API does not decode',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: { ...json, 'content-encoding': 'br' }, body: '{"agent_id":"a"}' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'Content-Encoding named like an object property',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: { ...json, 'content-encoding': '__proto__' }, body: '{"agent_id":"a"}' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'gzip label on a body that is not gzip',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: { ...json, 'content-encoding': 'gzip' }, body: '{"agent_id":"a"}' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'NUL in agent_id',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a\\u0000b"}' },
    status: 400,
    code: 'invalid_request',
    field: 'agent_id',
  },
  {
    name: 'NUL in a metadata key',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a","metadata":{"k\\u0000":1}}' },
    status: 400,
    code: 'invalid_request',
    field: 'metadata.k\u0000',
  },
  {
    name: 'lone surrogate in metadata',
    path: () => `/api/v1/contexts/${existing}`,
    init: { method: 'PUT', headers: json, body: '{"content":[],"metadata":{"k":"\\udc00x"}}' },
    status: 400,
    code: 'invalid_request',
    field: 'metadata.k',
  },
  {
    name: 'metadata nested 1000 deep',
    path: () => '/api/v1/contexts',
    init: {
      method: 'POST',
      headers: json,
      body: `{"agent_id":"a","metadata":{"k":${'['.repeat(1000)}${']'.repeat(1000)}}}`,
    },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'NUL in a list filter',
    path: () => '/api/v1/contexts?agent_id=a%00b',
    init: {},
    status: 400,
    code: 'invalid_request',
    field: 'agent_id',
  },
  {
    name: 'max_tokens beyond a PostgreSQL integer',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a","max_tokens":3000000000}' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'token count beyond a PostgreSQL integer',
    path: () => `/api/v1/contexts/${existing}/items`,
    init: {
      method: 'POST',
      headers: json,
      body: '{"items":[{"role":"user","content":"x","tokens":2147483647},{"role":"user","content":"y","tokens":2147483647}]}',
    },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'expires_at in year 0',
    path: () => '/api/v1/contexts',
    init: { method: 'POST', headers: json, body: '{"agent_id":"a","expires_at":"0000-01-01T00:00:00Z"}' },
    status: 400,
    code: 'invalid_request',
  },
];

describe('bad input', () => {
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await snapshot();
      const res = await api(suite.app.url, c.path(), c.init);
      expect(res.status).toBe(c.status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.json.error.code).toBe(c.code);
      expect(res.json.error.message).toEqual(expect.any(String));
      if (c.field) expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain(c.field);
      expect(await snapshot()).toBe(before);
    });
  }

  it('the process is still alive and serving after all of it', async () => {
    expect(suite.app.api.child.exitCode).toBeNull();
    expect((await api(suite.app.url, `/api/v1/contexts/${existing}`)).status).toBe(200);
  });
});
