// Authentication and authorization against real `ctxvault api` and `worker` processes with
// auth.mode "api_key" (the default beside a real database): keys from the CLI and the admin API,
// scopes, expiry, revocation, two tenants, and the answers an anonymous or foreign caller gets.
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/contexts.ts';
import { bearer, createApiKey } from '../helpers/credentials.ts';
import { runCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const ADMIN_TOKEN = 'auth-suite-admin-token';
// keys verified by the API are trusted for 1 s: a key revoked by another process is refused within it
const KEY_CACHE_TTL_MS = 1000;
const suite = useSuite({ env: { MCP_ADMIN_TOKEN: ADMIN_TOKEN, MCP_AUTH_KEY_CACHE_TTL: `${KEY_CACHE_TTL_MS}ms` } });
const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const small = (agent: string) => ({ agent_id: agent, content: [{ role: 'user', content: `hello from ${agent}` }] });

describe('without a credential', () => {
  it('every tenant route answers 401 with the JSON error shape and a Bearer challenge', async () => {
    const anonymous = { authorization: '' };
    for (const [method, path] of [
      ['GET', '/api/v1/contexts'],
      ['POST', '/api/v1/contexts'],
      ['GET', '/api/v1/jobs/upload-x-v1'],
      ['GET', '/api/v1/keys'],
      ['POST', '/mcp'],
    ] as const) {
      const res = await api(suite.app.url, path, {
        method,
        headers: anonymous,
        ...(method === 'POST' && { json: {} }),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json.error).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('API key') });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ctxvault"');
    }
  });

  it('X-Tenant-Id alone is not a credential', async () => {
    const res = await api(suite.app.url, '/api/v1/contexts', { headers: { 'x-tenant-id': 'default' } });
    expect(res.status).toBe(401);
  });

  it('a made-up or malformed key is 401 invalid_token', async () => {
    for (const key of ['cvk_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'not-a-key']) {
      const res = await api(suite.app.url, '/api/v1/contexts', { headers: bearer(key) });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ctxvault", error="invalid_token"');
    }
  });
});

describe('tenants come from the key', () => {
  it("one tenant cannot read, list, change, delete or see the jobs of another's contexts", async () => {
    const alice = bearer(await createApiKey(suite.db.url, 'alice', ['write']));
    const bob = bearer(await createApiKey(suite.db.url, 'bob', ['write']));
    const created = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', headers: alice, json: small('a') });
    expect(created.status).toBe(201);
    expect(created.json.tenant_id).toBe('alice');
    const id = created.json.id;
    const path = `/api/v1/contexts/${id}`;
    expect((await api(suite.app.url, path, { headers: alice })).status).toBe(200);
    for (const [method, sub, json] of [
      ['GET', '', undefined],
      ['GET', '/summary', undefined],
      ['GET', '/status', undefined],
      ['PUT', '', { content: [{ role: 'user', content: 'mine now' }] }],
      ['POST', '/items', { items: [{ role: 'user', content: 'more' }] }],
      ['POST', '/search', { query: 'hello' }],
      ['DELETE', '', undefined],
    ] as const) {
      const res = await api(suite.app.url, `${path}${sub}`, { method, headers: bob, json });
      expect(res.status, `${method} ${sub}`).toBe(404);
    }
    const listed = await api(suite.app.url, '/api/v1/contexts', { headers: bob });
    expect(listed.json.items).toEqual([]);
    // X-Tenant-Id cannot switch tenants: naming another one than the key's is refused
    const switched = await api(suite.app.url, path, { headers: { ...bob, 'x-tenant-id': 'alice' } });
    expect(switched.status).toBe(403);
    expect(switched.json.error.code).toBe('tenant_mismatch');
    expect((await api(suite.app.url, path, { headers: alice })).json.content).toMatchObject(small('a').content);
  });

  it('a job is visible only to the tenant whose write made it', async () => {
    const alice = bearer(await createApiKey(suite.db.url, 'alice-jobs', ['write']));
    const bob = bearer(await createApiKey(suite.db.url, 'bob-jobs', ['write']));
    const big = { agent_id: 'a', content: [{ role: 'user', content: 'x'.repeat(300_000) }] };
    const pending = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', headers: alice, json: big });
    expect(pending.status).toBe(202);
    expect((await api(suite.app.url, `/api/v1/jobs/${pending.json.job_id}`, { headers: alice })).status).toBe(200);
    const foreign = await api(suite.app.url, `/api/v1/jobs/${pending.json.job_id}`, { headers: bob });
    expect(foreign.status).toBe(404);
  });
});

describe('scopes', () => {
  it('read may read but not write; write may not manage keys; admin may manage its own keys only', async () => {
    const writer = bearer(await createApiKey(suite.db.url, 'scoped', ['write']));
    const reader = bearer(await createApiKey(suite.db.url, 'scoped', ['read']));
    const created = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', headers: writer, json: small('s') });
    expect((await api(suite.app.url, `/api/v1/contexts/${created.json.id}`, { headers: reader })).status).toBe(200);
    const refused = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', headers: reader, json: small('r') });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: 'insufficient_scope', details: { needed: 'write' } });
    expect((await api(suite.app.url, '/api/v1/keys', { headers: writer })).status).toBe(403);

    const admin = bearer(await createApiKey(suite.db.url, 'scoped', ['admin']));
    const made = await api(suite.app.url, '/api/v1/keys', {
      method: 'POST',
      headers: admin,
      json: { scopes: ['read'] },
    });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ tenant_id: 'scoped', scopes: ['read'], key: expect.stringMatching(/^cvk_/) });
    const other = await api(suite.app.url, '/api/v1/keys', {
      method: 'POST',
      headers: admin,
      json: { scopes: ['admin'], tenant_id: 'someone-else' },
    });
    expect(other.status).toBe(400);
    const listed = await api(suite.app.url, '/api/v1/keys', { headers: admin });
    expect(listed.json.keys.map((key: { tenant_id: string }) => key.tenant_id)).toEqual(
      Array(listed.json.keys.length).fill('scoped'),
    );
    expect(JSON.stringify(listed.json)).not.toContain(made.json.key);
    // a key of another tenant cannot be revoked from here
    const foreignKey = await api(suite.app.url, '/api/v1/admin/keys', {
      method: 'POST',
      headers: asAdmin,
      json: { tenant_id: 'foreign', scopes: ['read'] },
    });
    expect(
      (await api(suite.app.url, `/api/v1/keys/${foreignKey.json.prefix}`, { method: 'DELETE', headers: admin })).status,
    ).toBe(404);
  });

  it('a tenant key, even admin-scoped, cannot reach the operator admin API', async () => {
    const admin = bearer(await createApiKey(suite.db.url, 'scoped', ['admin']));
    expect((await api(suite.app.url, '/api/v1/admin/queues', { headers: admin })).status).toBe(401);
    expect((await api(suite.app.url, '/api/v1/admin/keys', { headers: admin })).status).toBe(401);
  });
});

describe('key lifecycle', () => {
  it('`ctxvault keys create / ls / revoke`: shown once, listed by prefix, refused once revoked', async () => {
    const env = { MCP_DATABASE_URL: suite.db.url, MCP_LOGGING_LEVEL: 'silent' };
    const made = await runCtxvault(['keys', 'create', '--tenant', 'cli', '--scope', 'write', '--name', 'ci'], env);
    expect(made.code, made.output).toBe(0);
    const key = made.stdout.trim();
    expect(key).toMatch(/^cvk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const prefix = key.split('_')[1]!;
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: bearer(key),
      json: small('c'),
    });
    expect(created.json.tenant_id).toBe('cli');

    const listed = await runCtxvault(['keys', 'ls', '--tenant', 'cli', '--json'], env);
    const keys = JSON.parse(listed.stdout);
    expect(keys).toEqual([
      expect.objectContaining({ prefix, tenant_id: 'cli', scopes: ['write'], name: 'ci', revoked_at: null }),
    ]);
    expect(keys[0].last_used_at).not.toBeNull();
    expect(listed.stdout).not.toContain(key.slice(`cvk_${prefix}_`.length));

    const revoked = await runCtxvault(['keys', 'revoke', prefix], env);
    expect(revoked.code, revoked.output).toBe(0);
    // revoked by another process: the API, which verified the key just now, refuses it within auth.key_cache_ttl
    await expect
      .poll(async () => (await api(suite.app.url, '/api/v1/contexts', { headers: bearer(key) })).json, {
        timeout: KEY_CACHE_TTL_MS + 2000,
        interval: 100,
      })
      .toMatchObject({ error: { code: 'unauthorized', message: expect.stringContaining('revoked') } });

    const bad = await runCtxvault(['keys', 'create', '--tenant', 'cli', '--scope', 'root'], env);
    expect(bad.code).toBe(2);
  });

  it('an expired key is refused', async () => {
    const key = await createApiKey(suite.db.url, 'late', ['read'], { expiresAt: new Date(Date.now() + 1500) });
    expect((await api(suite.app.url, '/api/v1/contexts', { headers: bearer(key) })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const res = await api(suite.app.url, '/api/v1/contexts', { headers: bearer(key) });
    expect(res.status).toBe(401);
    expect(res.json.error.message).toContain('expired');
  });

  it('the admin API creates keys for any tenant, lists and revokes them, behind the admin token', async () => {
    const made = await api(suite.app.url, '/api/v1/admin/keys', {
      method: 'POST',
      headers: asAdmin,
      json: { tenant_id: 'ops', scopes: ['read', 'write'], expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(made.status).toBe(201);
    expect((await api(suite.app.url, '/api/v1/contexts', { headers: bearer(made.json.key) })).status).toBe(200);
    const listed = await api(suite.app.url, '/api/v1/admin/keys?tenant_id=ops', { headers: asAdmin });
    expect(listed.json.keys).toEqual([expect.objectContaining({ id: made.json.id, tenant_id: 'ops' })]);
    const revoked = await api(suite.app.url, `/api/v1/admin/keys/${made.json.id}`, {
      method: 'DELETE',
      headers: asAdmin,
    });
    expect(revoked.json.revoked_at).not.toBeNull();
    expect((await api(suite.app.url, '/api/v1/contexts', { headers: bearer(made.json.key) })).status).toBe(401);
    expect((await api(suite.app.url, '/api/v1/admin/keys', { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
  });
});
