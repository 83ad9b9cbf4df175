import { type ContextService, createContextSchema, NotFoundError } from '@ctxvault/core';
import { createMetrics } from '@ctxvault/observability';
import type { QueueAdmin } from '@ctxvault/queue';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createApp } from './app.ts';
import type { ApiDeps } from './env.ts';

const TOKEN = 'unit-token';

function deps(overrides: Partial<ApiDeps> = {}): ApiDeps {
  return {
    service: {
      job: async (id: string) => Promise.reject(new NotFoundError(`no job ${id}`)),
    } as unknown as ContextService,
    logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() },
    maxBodyBytes: 1024,
    maxContextBytes: 4096,
    bodyTimeoutMs: 60_000,
    readiness: { database: async () => {}, queue: async () => {}, blob_store: async () => {} },
    metrics: createMetrics(),
    admin: {
      token: TOKEN,
      jobs: { counts: async () => ({ 'context-upload': { failed: 2 } }), queues: () => [] } as unknown as QueueAdmin,
    },
    ...overrides,
  };
}

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
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
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

describe('/api/v1/openapi.json', () => {
  const app = createApp(deps());

  it('is OpenAPI 3.1 with the request schemas the routes validate with', async () => {
    const doc: any = await (await app.request('/api/v1/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    const { $schema: _, ...expected } = z.toJSONSchema(createContextSchema, { io: 'input' }) as Record<string, unknown>;
    const createContext = doc.components.schemas.CreateContext;
    expect(createContext.required).toEqual(expected.required);
    expect(createContext.properties.agent_id).toEqual((expected.properties as Record<string, unknown>).agent_id);
    expect(doc.paths['/api/v1/contexts'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/CreateContext',
    });
    expect(doc.paths['/api/v1/contexts'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'agent_id',
      'session_id',
      'model_id',
      'status',
      'created_after',
      'created_before',
      'limit',
      'cursor',
    ]);
  });

  it('describes the answers, and every reference resolves to a component', async () => {
    const doc: any = await (await app.request('/api/v1/openapi.json')).json();
    expect(doc.paths['/api/v1/contexts/{id}'].get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Context',
    });
    expect(doc.paths['/api/v1/contexts'].post.responses['400'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    expect(doc.components.schemas.Context.properties.content.items).toEqual({
      $ref: '#/components/schemas/ContextItem',
    });
    expect(doc.components.schemas.AdminJob.required).toEqual(
      expect.arrayContaining(['context_id', 'failed_reason', 'request_id']),
    );
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of new Set(refs))
      expect(doc.components.schemas[ref.split('/').pop()!.replace('"', '')], ref).toBeDefined();
  });

  it('describes every route the API serves', async () => {
    const doc: any = await (await app.request('/api/v1/openapi.json')).json();
    const shape = (path: string) => path.replace(/:\w+|\{\w+\}/g, '{}');
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${shape(path)}`),
      ),
    );
    const served = app.routes
      .filter(
        (route) =>
          route.method !== 'ALL' &&
          !route.path.startsWith('/admin/queues') &&
          !['/docs', '/api/v1/openapi.json'].includes(route.path),
      )
      .map((route) => `${route.method} ${shape(route.path)}`);
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !served.includes(route))).toEqual([]);
  });
});
