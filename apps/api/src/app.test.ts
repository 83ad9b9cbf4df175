import { type ContextService, createContextSchema, NotFoundError } from '@ctxvault/core';
import { type QueueAdmin, QueueUnavailableError } from '@ctxvault/queue';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createApp } from './app.ts';
import type { ApiDeps } from './env.ts';
import { unitApiDeps } from './unit-api-deps.ts';

const TOKEN = 'unit-token';

function deps(overrides: Partial<ApiDeps> = {}): ApiDeps {
  return unitApiDeps({
    service: {
      job: async (id: string) => Promise.reject(new NotFoundError(`no job ${id}`)),
    } as unknown as ContextService,
    logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() },
    admin: {
      token: TOKEN,
      jobs: { counts: async () => ({ 'context-upload': { failed: 2 } }), queues: () => [] } as unknown as QueueAdmin,
    },
    ...overrides,
  });
}

const ID = '0193a5f0-0000-7000-8000-000000000001';
const admin = { authorization: `Bearer ${TOKEN}` };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the admin credential', () => {
  const app = createApp(deps());

  it('accepts the token as a Bearer token or as the Basic password of any user', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, basic('ops', TOKEN), basic('', TOKEN)]) {
      const res = await app.request('/api/v1/admin/queues', { headers: { authorization } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ queues: { 'context-upload': { failed: 2 } } });
    }
    expect((await app.request('/admin/queues', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('refuses anything else with 401 and a Basic challenge, on the dashboard and the admin API', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/api/v1/admin/queues']) {
      for (const authorization of [
        undefined,
        'Bearer wrong',
        basic('ops', 'wrong'),
        `Basic ${Buffer.from(TOKEN).toString('base64')}`,
        `Token ${TOKEN}`,
      ]) {
        const res = await app.request(path, { headers: authorization ? { authorization } : {} });
        expect(res.status, `${path} with ${authorization}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="ctxvault admin", charset="UTF-8"');
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
    }
  });

  it('without a token, the dashboard and admin API are off, and the log says so', async () => {
    const off = deps({ admin: { ...deps().admin, token: '' } });
    const appOff = createApp(off);
    expect(off.logger.info).toHaveBeenCalledWith(
      {},
      expect.stringContaining('admin.token (MCP_ADMIN_TOKEN) is not set'),
    );
    for (const path of ['/admin/queues', '/api/v1/admin/queues']) {
      const res = await appOff.request(path, { headers: { authorization: 'Bearer ' } });
      expect(res.status).toBe(404);
    }
  });
});

describe('/metrics', () => {
  it('times requests by route pattern and status, never by raw path', async () => {
    const d = deps();
    const app = createApp(d);
    await app.request('/api/v1/jobs/upload-a-v1');
    await app.request('/api/v1/jobs/upload-b-v1');
    await app.request('/no/such/path');
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain(
      'ctxvault_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/:id",status="404"} 2',
    );
    expect(text).toContain(
      'ctxvault_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1',
    );
    expect(text).not.toContain('upload-a-v1');
  });
});

describe('/readyz', () => {
  it('reports each dependency, failing only the one that is down, with what to check', async () => {
    // what Node's socket reports (a system error: errno code and syscall), as pg and the ORM pass it on
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    const app = createApp(
      deps({
        readiness: { database: async () => Promise.reject(refused), queue: async () => {}, blob_store: async () => {} },
      }),
    );
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: {
        database: {
          status: 'failed',
          code: 'database_unavailable',
          cause: 'connection_refused',
          message:
            'database unreachable (connection_refused): check database.url (MCP_DATABASE_URL) and that PostgreSQL is running',
        },
        queue: { status: 'ok' },
        blob_store: { status: 'ok' },
      },
    });
  });
});

/** The parts of an OpenAPI 3.1 document these tests read. */
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, SchemaObject> };
}
interface OpenApiOperation {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string; description?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  security?: unknown;
}
interface SchemaObject {
  required?: string[];
  properties?: Record<string, SchemaObject>;
  items?: unknown;
}

describe('/api/v1/openapi.json', () => {
  const app = createApp(deps());
  const documentOf = async (served = app) =>
    (await (await served.request('/api/v1/openapi.json')).json()) as OpenApiDocument;

  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await documentOf();
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('lists every mounted route, with a unique operationId, and nothing that is not mounted', async () => {
    const doc = await documentOf();
    const shape = (path: string) => path.replace(/:\w+|\{\w+\}/g, '{}');
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        route: `${method.toUpperCase()} ${shape(path)}`,
        id: op.operationId,
      })),
    );
    // not part of the API: bull-board's pages and assets, and the reference itself
    const undocumented = (path: string) =>
      path.startsWith('/admin/queues') || path.startsWith('/docs') || path === '/api/v1/openapi.json';
    const served = new Set(
      app.routes
        .filter((route) => route.method !== 'ALL' && !undocumented(route.path))
        .map((route) => `${route.method} ${shape(route.path)}`),
    );
    expect(served.size).toBeGreaterThan(20);
    expect([...served].filter((route) => !operations.some((op) => op.route === route))).toEqual([]);
    expect(operations.filter((op) => !served.has(op.route))).toEqual([]);
    expect(new Set(operations.map((op) => op.id)).size).toBe(operations.length);
  });

  it('documents the admin API only where it is mounted', async () => {
    const doc = await documentOf(createApp(deps({ admin: { ...deps().admin, token: '' } })));
    expect(Object.keys(doc.paths).filter((path) => path.startsWith('/api/v1/admin'))).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/api/v1/contexts');
  });

  it('describes requests with the schemas the routes validate with', async () => {
    const doc = await documentOf();
    const { $schema: _, ...expected } = z.toJSONSchema(createContextSchema, { io: 'input' }) as Record<string, unknown>;
    const createContext = doc.components.schemas.CreateContext;
    expect(createContext?.required).toEqual(expected.required);
    expect(createContext?.properties?.agent_id).toEqual((expected.properties as Record<string, unknown>).agent_id);
    const create = doc.paths['/api/v1/contexts']?.post;
    expect(create?.requestBody?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/CreateContext',
    });
    expect(create?.requestBody?.content['application/x-ndjson']?.schema.description).toBe(
      'the first line a CreateEnvelope, then one ContextItem a line',
    );
    expect(create?.parameters).toEqual([expect.objectContaining({ in: 'header', name: 'idempotency-key' })]);
    expect(doc.paths['/api/v1/contexts']?.get?.parameters?.map((p: { name: string }) => p.name)).toEqual([
      'agent_id',
      'session_id',
      'model_id',
      'format',
      'status',
      'created_after',
      'created_before',
      'limit',
      'cursor',
    ]);
    expect(doc.paths['/api/v1/contexts/{id}/items']?.post?.parameters).toEqual([
      expect.objectContaining({ in: 'path', name: 'id', required: true }),
      expect.objectContaining({ in: 'header', name: 'if-match' }),
    ]);
    expect(doc.paths['/api/v1/admin/queues']?.get?.security).toEqual([{ adminBearer: [] }, { adminBasic: [] }]);
  });

  it('describes the answers, and every reference resolves to a component', async () => {
    const doc = await documentOf();
    expect(doc.paths['/api/v1/contexts/{id}']?.get?.responses['200']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/Context',
    });
    expect(doc.paths['/api/v1/contexts']?.post?.responses['400']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    expect(doc.components.schemas.Context?.properties?.content?.items).toEqual({
      $ref: '#/components/schemas/ContextItem',
    });
    expect(doc.components.schemas.AdminJob?.required).toEqual(
      expect.arrayContaining(['context_id', 'failed_reason', 'request_id']),
    );
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of new Set(refs))
      expect(doc.components.schemas[ref.split('/').pop()!.replace('"', '')], ref).toBeDefined();
  });
});

describe('the declared validation', () => {
  const app = createApp(deps());
  const errorOf = async (res: Response) => {
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    return {
      status: res.status,
      code: body.error.code,
      paths: Array.isArray(body.error.details) ? body.error.details.map((d) => d.path) : undefined,
    };
  };

  it('refuses bad path parameters, queries and headers with 400 and the failing fields', async () => {
    expect(await errorOf(await app.request('/api/v1/contexts/not-a-uuid/summary'))).toEqual({
      status: 400,
      code: 'invalid_request',
      paths: ['id'],
    });
    expect(await errorOf(await app.request('/api/v1/contexts?limit=0&status=lost'))).toEqual({
      status: 400,
      code: 'invalid_request',
      paths: ['status', 'limit'],
    });
    expect(await errorOf(await app.request('/api/v1/admin/queues/nope/jobs', { headers: admin }))).toEqual({
      status: 400,
      code: 'invalid_request',
      paths: ['queue'],
    });
    const create = await app.request('/api/v1/contexts', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'with space' },
      body: '{}',
    });
    expect(await errorOf(create)).toEqual({ status: 400, code: 'invalid_request', paths: ['header:idempotency-key'] });
    const write = await app.request(`/api/v1/contexts/${ID}`, { method: 'DELETE', headers: { 'if-match': 'v3' } });
    expect(await errorOf(write)).toEqual({ status: 400, code: 'invalid_request', paths: ['header:if-match'] });
  });

  it('refuses text the database cannot store in a query, naming the field', async () => {
    expect(await errorOf(await app.request('/api/v1/contexts?agent_id=a%00b'))).toEqual({
      status: 400,
      code: 'invalid_request',
      paths: ['agent_id'],
    });
  });

  it('reads declared bodies with their limits: 400 naming fields, 413 over the limit, 415 for other types', async () => {
    const post = (body: string, type = 'application/json') =>
      app.request('/api/v1/contexts', { method: 'POST', headers: { 'content-type': type }, body });
    expect(await errorOf(await post(JSON.stringify({ content: [{ role: 'robot', content: 'x' }] })))).toMatchObject({
      status: 400,
      paths: expect.arrayContaining(['agent_id', 'content.0.role']),
    });
    expect(await errorOf(await post(JSON.stringify({ agent_id: 'a', content: 'x'.repeat(2000) })))).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    expect(await errorOf(await post('agent_id=a', 'text/plain'))).toMatchObject({ status: 415 });
    expect(await errorOf(await post('{"agent_id":7}\n', 'application/x-ndjson'))).toMatchObject({
      status: 400,
      paths: ['line 1.agent_id'],
    });
  });
});

describe('/docs', () => {
  const app = createApp(deps());

  it('serves the reference page and its script from this server, with no address elsewhere', async () => {
    const page = await app.request('/docs');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map(([, src]) => src);
    expect(scripts).toEqual(['/docs/api-reference.js']);
    const script = await app.request(scripts[0]!);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
  });
});

describe('a queue that cannot serve for now', () => {
  it('a Redis Cluster failing over answers 503 queue_unavailable with Retry-After, never 500', async () => {
    const clusterDown = new QueueUnavailableError('connection_failure', new Error('CLUSTERDOWN The cluster is down'));
    const app = createApp(
      deps({ service: { job: async () => Promise.reject(clusterDown) } as unknown as ContextService }),
    );
    const res = await app.request('/api/v1/jobs/upload-a-v1');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({
      error: { code: 'queue_unavailable', details: { cause: 'connection_failure' } },
    });
  });
});
