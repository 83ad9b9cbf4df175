// The attacks of issue 11 against real `ctxvault api` and `worker` processes: DNS rebinding and
// cross-site requests, MCP input that REST refuses, idempotency keys reused, floods, compression
// bombs, oversized lines, quotas, and the operational views.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/contexts.ts';
import { bearer, createApiKey } from '../helpers/credentials.ts';
import { freePort, spawnCtxvault } from '../helpers/processes.ts';
import { rawRequest } from '../helpers/raw-request.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const ADMIN_TOKEN = 'hardening-admin';
const METRICS_TOKEN = 'hardening-metrics';
const RPS = 10;
const suite = useSuite({
  env: {
    MCP_ADMIN_TOKEN: ADMIN_TOKEN,
    MCP_METRICS_TOKEN: METRICS_TOKEN,
    MCP_SERVER_ALLOWED_ORIGINS: 'http://app.example',
    MCP_QUOTAS_REQUESTS_PER_SECOND: String(RPS),
    MCP_QUOTAS_MAX_CONTEXTS: '3',
    MCP_QUOTAS_MAX_STORED_BYTES: '600KiB',
    MCP_QUOTAS_MAX_STAGED_BYTES: '3MiB',
    MCP_LIMITS_MAX_ITEM_BYTES: '1MiB',
    MCP_LIMITS_MAX_CONTEXT_BYTES: '200MiB',
    MCP_LIMITS_MAX_DECOMPRESSION_RATIO: '10',
    MCP_LIMITS_MAX_BATCH_MESSAGES: '4',
    MCP_STORAGE_INLINE_THRESHOLD: '4KiB',
  },
});

/** A key of a tenant of its own, so each test starts below every quota. */
let tenants = 0;
async function freshTenant(scopes: ('read' | 'write' | 'admin')[] = ['write']) {
  const name = `t${++tenants}-${Date.now()}`;
  return { name, headers: bearer(await createApiKey(suite.db.url, name, scopes)) };
}

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'evil', version: '1' } },
};
const toolCall = (name: string, args: unknown, id = 2) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('DNS rebinding and cross-site requests', () => {
  it('/mcp refuses a foreign Host or Origin with 403, before anything runs', async () => {
    const port = new URL(suite.app.url).port;
    const body = JSON.stringify(initialize);
    const rebound = await rawRequest(`${suite.app.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...suite.app.headers, host: `evil.example:${port}`, origin: 'http://evil.example' },
      body,
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.text).error.code).toBe('host_not_allowed');
    const crossSite = await rawRequest(`${suite.app.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...suite.app.headers, origin: 'http://evil.example' },
      body,
    });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.text).error.code).toBe('origin_not_allowed');
    // an allowed origin and the same origin pass
    for (const origin of ['http://app.example', suite.app.url]) {
      const ok = await api(suite.app.url, '/mcp', {
        method: 'POST',
        headers: { ...MCP_HEADERS, origin },
        body,
      });
      expect(ok.status, origin).toBe(200);
    }
  });

  it('a cross-site text/plain POST cannot change a queue, even with the admin credential', async () => {
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;
    const res = await rawRequest(`${suite.app.url}/api/v1/admin/queues/context-upload/retry-failed`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example', authorization: basic },
      body: 'x',
    });
    expect(res.status).toBe(403);
    const page = await rawRequest(`${suite.app.url}/admin/queues/api/queues/context-upload/retry/failed`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example', authorization: basic },
    });
    expect(page.status).toBe(403);
  });

  it('the reference and the dashboard carry security headers', async () => {
    for (const path of ['/docs', '/admin/queues']) {
      const res = await rawRequest(`${suite.app.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status, path).toBe(200);
      expect(res.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
  });
});

describe('MCP gets what REST gets', () => {
  const mcp = async (headers: Record<string, string>, message: unknown) =>
    api(suite.app.url, '/mcp', {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...headers },
      body: JSON.stringify(message),
    });

  it("NUL and lone surrogates are refused with REST's error before any tool runs, and nothing is stored", async () => {
    const tenant = await freshTenant();
    for (const text of ['nul \u0000 here', 'lone \ud800 surrogate']) {
      const res = await mcp(
        tenant.headers,
        toolCall('context_create', { agent_id: 'a', content: [{ role: 'user', content: text }] }),
      );
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe(-32600);
      expect(res.json.error.data).toMatchObject({
        code: 'invalid_request',
        details: [{ path: 'params.arguments.content.0.content' }],
      });
      expect(res.text).not.toMatch(/postgres|syntax|invalid byte sequence|unsupported Unicode/i);
    }
    expect((await api(suite.app.url, '/api/v1/contexts', { headers: tenant.headers })).json.items).toEqual([]);
  });

  it('deep nesting is refused without "Maximum call stack size exceeded"', async () => {
    const tenant = await freshTenant();
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const body = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"context_create","arguments":{"agent_id":"a","content":[],"metadata":${deep}}}}`;
    const res = await api(suite.app.url, '/mcp', {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...tenant.headers },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.json.error.data.code).toBe('invalid_request');
    expect(res.text).not.toContain('call stack');
  });

  it('a JSON-RPC batch longer than limits.max_batch_messages is refused whole', async () => {
    const tenant = await freshTenant();
    const batch = Array.from({ length: 5 }, (_, i) => toolCall('context_create', { agent_id: `b${i}` }, i + 10));
    const res = await mcp(tenant.headers, batch);
    expect(res.status).toBe(413);
    expect(res.json.error.data.code).toBe('batch_too_large');
    expect((await api(suite.app.url, '/api/v1/contexts', { headers: tenant.headers })).json.items).toEqual([]);
  });

  it('a read-only key cannot write through a tool', async () => {
    const tenant = await freshTenant(['read']);
    const res = await mcp(tenant.headers, toolCall('context_create', { agent_id: 'ro' }));
    expect(JSON.parse(res.json.result.content[0].text).error.code).toBe('insufficient_scope');
  });
});

describe('idempotency', () => {
  it('replays the same request marked Idempotent-Replayed, refuses another with 422', async () => {
    const tenant = await freshTenant();
    const key = { ...tenant.headers, 'idempotency-key': 'order-1' };
    const body = { agent_id: 'i', content: [{ role: 'user', content: 'once' }] };
    const first = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', headers: key, json: body });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', headers: key, json: body });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.id).toBe(first.json.id);
    // the same items as NDJSON are the same request
    const ndjson = `${JSON.stringify({ agent_id: 'i' })}\n${JSON.stringify(body.content[0])}\n`;
    const asNdjson = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/x-ndjson' },
      body: ndjson,
    });
    expect(asNdjson.headers.get('idempotent-replayed')).toBe('true');
    const other = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: key,
      json: { ...body, content: [{ role: 'user', content: 'twice' }] },
    });
    expect(other.status).toBe(422);
    expect(other.json.error).toMatchObject({ code: 'idempotency_key_reused', details: { context_id: first.json.id } });
    expect((await api(suite.app.url, '/api/v1/contexts', { headers: tenant.headers })).json.items).toHaveLength(1);
  });
});

describe('floods and bombs', () => {
  it('requests beyond quotas.requests_per_second get 429 with Retry-After, counted across API processes', async () => {
    const tenant = await freshTenant(['read']);
    const port = await freePort();
    const second = await spawnCtxvault(
      'api',
      { ...suite.app.env, MCP_SERVER_PORT: String(port) },
      { readyLine: /API listening/ },
    );
    try {
      const urls = [suite.app.url, `http://127.0.0.1:${port}`];
      const list = (url: string) => api(url, '/api/v1/contexts', { headers: tenant.headers });
      // the limit's worth of requests to one process, then one to the other within the same second:
      // the second process knows of the first's requests (a counter per process would serve it)
      let checked = false;
      for (let attempt = 0; attempt < 3 && !checked; attempt++) {
        await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
        const window = Math.floor(Date.now() / 1000);
        const first = await Promise.all(Array.from({ length: RPS }, () => list(urls[0]!)));
        const other = await list(urls[1]!);
        if (Math.floor(Date.now() / 1000) !== window) continue; // the second ended meanwhile: again
        expect(first.map((res) => res.status)).toEqual(Array(RPS).fill(200));
        expect(other.status).toBe(429);
        expect(other.headers.get('retry-after')).toBe('1');
        expect(other.json.error.code).toBe('rate_limited');
        checked = true;
      }
      expect(checked).toBe(true);
      // a flood over both processes: at most the limit per second is served
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      const answers = await Promise.all(Array.from({ length: 4 * RPS }, (_, i) => list(urls[i % 2]!)));
      const served = answers.filter((res) => res.status === 200).length;
      expect(served).toBeGreaterThan(0);
      expect(served).toBeLessThanOrEqual(2 * RPS); // the flood may straddle two seconds
      expect(answers.filter((res) => res.status === 429).length).toBe(4 * RPS - served);
      // another tenant is not slowed down by this one
      const other = await freshTenant(['read']);
      expect((await api(suite.app.url, '/api/v1/contexts', { headers: other.headers })).status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('a gzip body decoding past limits.max_decompression_ratio is 413, having staged nothing', async () => {
    const tenant = await freshTenant();
    const lines = [JSON.stringify({ agent_id: 'bomb' })];
    const item = `${JSON.stringify({ role: 'user', content: 'a'.repeat(500_000) })}`;
    for (let i = 0; i < 200; i++) lines.push(item);
    const bomb = gzipSync(`${lines.join('\n')}\n`);
    expect(bomb.length).toBeLessThan(MiB); // ~100 MB of NDJSON
    const res = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(res.status).toBe(413);
    expect(res.json.error.message).toContain('max_decompression_ratio');
    expect((await api(suite.app.url, '/api/v1/contexts', { headers: tenant.headers })).json.items).toEqual([]);
  });

  it('an NDJSON line over limits.max_item_bytes is 413 while it streams, never held whole', async () => {
    const tenant = await freshTenant();
    let sent = 0;
    // a 150 MB line, sent as it is produced: the answer must come long before its end
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          new TextEncoder().encode(`${JSON.stringify({ agent_id: 'long' })}\n{"role":"user","content":"`),
        );
      },
      pull(controller) {
        if (sent >= 150 * MiB) return controller.close();
        sent += 256 * 1024;
        controller.enqueue(new Uint8Array(256 * 1024).fill(0x61));
      },
    });
    const res = await fetch(`${suite.app.url}/api/v1/contexts`, {
      method: 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/x-ndjson' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('max_item_bytes');
  });

  it('bodies a tenant has in flight beyond quotas.max_staged_bytes get 429', async () => {
    const tenant = await freshTenant();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    // one upload sends 2.5 MiB and then waits; a second one of the same tenant goes past 3 MiB
    const first = fetch(`${suite.app.url}/api/v1/contexts`, {
      method: 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/x-ndjson' },
      body: new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ agent_id: 'slow' })}\n`));
          const line = `${JSON.stringify({ role: 'user', content: 'x'.repeat(100_000) })}\n`;
          for (let i = 0; i < 25; i++) controller.enqueue(new TextEncoder().encode(line));
          await held;
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    await new Promise((r) => setTimeout(r, 1500));
    const lines = Array.from({ length: 12 }, () => JSON.stringify({ role: 'user', content: 'y'.repeat(100_000) }));
    const second = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ agent_id: 'second' })}\n${lines.join('\n')}\n`,
    });
    expect(second.status).toBe(429);
    expect(second.json.error.code).toBe('staging_quota');
    expect(second.headers.get('retry-after')).toBe('5');
    // another tenant is not held back by this one's uploads
    const other = await freshTenant();
    const fine = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { ...other.headers, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ agent_id: 'other' })}\n${lines.join('\n')}\n`,
    });
    expect(fine.status).toBe(202);
    release();
    expect((await first).status).toBe(202);
  });
});

describe('quotas', () => {
  it('quotas.max_contexts: the create past it is 403 quota_exceeded; a delete makes room', async () => {
    const tenant = await freshTenant();
    const create = () =>
      api(suite.app.url, '/api/v1/contexts', {
        method: 'POST',
        headers: tenant.headers,
        json: { agent_id: 'q', content: [{ role: 'user', content: 'hi' }] },
      });
    const made = [await create(), await create(), await create()];
    expect(made.map((res) => res.status)).toEqual([201, 201, 201]);
    const refused = await create();
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: 'quota_exceeded', details: { quota: 'max_contexts', limit: 3 } });
    await api(suite.app.url, `/api/v1/contexts/${made[0]!.json.id}`, { method: 'DELETE', headers: tenant.headers });
    await expect.poll(async () => (await create()).status, { timeout: 30_000 }).toBe(201);
  });

  it('quotas.max_stored_bytes: once reached, writes are 403 quota_exceeded', async () => {
    const tenant = await freshTenant();
    const big = { agent_id: 'b', content: [{ role: 'user', content: 'z'.repeat(700_000) }] };
    const first = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', headers: tenant.headers, json: big });
    expect(first.status).toBe(202);
    const refused = await api(suite.app.url, `/api/v1/contexts/${first.json.id}/items`, {
      method: 'POST',
      headers: tenant.headers,
      json: { items: [{ role: 'user', content: 'more' }] },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error.details).toMatchObject({ quota: 'max_stored_bytes' });
  });
});

describe('operational views', () => {
  it('/metrics and /api/v1/cache need metrics.token (or the admin token)', async () => {
    for (const path of ['/metrics', '/api/v1/cache']) {
      const anonymous = await api(suite.app.url, path, { headers: { authorization: '' } });
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.json.error.code).toBe('unauthorized');
      expect((await api(suite.app.url, path, { headers: bearer(METRICS_TOKEN) })).status).toBe(200);
      expect((await api(suite.app.url, path, { headers: bearer(ADMIN_TOKEN) })).status).toBe(200);
    }
  });

  it('serves the Protected Resource Metadata of /mcp', async () => {
    const res = await api(suite.app.url, '/.well-known/oauth-protected-resource');
    expect(res.json).toMatchObject({ resource: `${suite.app.url}/mcp`, scopes_supported: ['read', 'write', 'admin'] });
  });
});
