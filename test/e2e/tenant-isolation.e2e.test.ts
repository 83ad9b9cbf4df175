// Tenant isolation, property-based (fast-check) against real `ctxvault api` and `worker` processes:
// two tenants, each with contexts (inline and uploaded), jobs and keys, and random sequences of
// operations by one of them aimed at the other's: every REST route of the OpenAPI document, every
// MCP tool and the context resources, the job view and the admin views. Nothing of the other tenant
// may be read, listed, changed or deleted, and no answer may carry its ids or its text.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type JsonAnswer, waitUntilSettled } from '../helpers/contexts.ts';
import { bearer, createApiKey } from '../helpers/credentials.ts';
import { useSuite } from '../helpers/suite.ts';

const ADMIN_TOKEN = 'isolation-admin';
const suite = useSuite({ env: { MCP_ADMIN_TOKEN: ADMIN_TOKEN, MCP_STORAGE_INLINE_THRESHOLD: '2KiB' } });
const SEED = process.env.CTXVAULT_TEST_FUZZ_SEED ? Number(process.env.CTXVAULT_TEST_FUZZ_SEED) : undefined;

interface Tenant {
  name: string;
  headers: Record<string, string>;
  /** a text only this tenant's contexts hold */
  secret: string;
  contexts: string[];
  jobs: string[];
  keyPrefixes: string[];
}

const tenants: Record<'a' | 'b', Tenant> = {
  a: { name: 'iso-a', headers: {}, secret: `secret-a-${Date.now()}`, contexts: [], jobs: [], keyPrefixes: [] },
  b: { name: 'iso-b', headers: {}, secret: `secret-b-${Date.now()}`, contexts: [], jobs: [], keyPrefixes: [] },
};

/** What a tenant holds, as the database has it: compared before and after the attacks. */
async function holdings(tenant: Tenant): Promise<string> {
  const views = await Promise.all(
    tenant.contexts.map(async (id) => {
      const res = await api(suite.app.url, `/api/v1/contexts/${id}`, { headers: tenant.headers });
      const { updated_at, version, storage, content, metadata, status } = res.json;
      return { id, status: res.status, updated_at, version, sha: storage?.sha256, content, metadata, state: status };
    }),
  );
  // the keys it had (the attacks may add keys of the attacker's own)
  const keys = (await api(suite.app.url, '/api/v1/keys', { headers: tenant.headers })).json.keys.filter(
    (k: JsonAnswer) => tenant.keyPrefixes.includes(k.prefix),
  );
  return JSON.stringify({ views, keys: keys.map((k: JsonAnswer) => [k.prefix, k.revoked_at]) });
}

beforeAll(async () => {
  for (const tenant of Object.values(tenants)) {
    const key = await createApiKey(suite.db.url, tenant.name, ['admin']);
    tenant.headers = bearer(key);
    tenant.keyPrefixes.push(key.split('_')[1]!);
    const spare = await api(suite.app.url, '/api/v1/keys', {
      method: 'POST',
      headers: tenant.headers,
      json: { scopes: ['read'] },
    });
    tenant.keyPrefixes.push(spare.json.prefix);
    for (const size of [10, 5_000]) {
      const created = await api(suite.app.url, '/api/v1/contexts', {
        method: 'POST',
        headers: tenant.headers,
        json: {
          agent_id: `${tenant.secret}-agent`,
          session_id: `${tenant.secret}-session`,
          metadata: { owner: tenant.secret },
          content: [{ role: 'user', content: `${tenant.secret} ${'x'.repeat(size)}` }],
        },
      });
      expect([201, 202]).toContain(created.status);
      tenant.contexts.push(created.json.id);
      if (created.json.job_id) {
        tenant.jobs.push(created.json.job_id);
        await waitUntilSettled(suite.app.url, created.json.id, 60_000, tenant.headers);
      }
    }
  }
});

interface Outcome {
  status: number;
  text: string;
  /** refused (an HTTP error, a JSON-RPC error or an error tool result): it may name what it was asked about */
  refused: boolean;
}

/** One attack: a call by `attacker` aimed at something of `victim`'s. */
interface Attack {
  name: string;
  run(attacker: Tenant, victim: Tenant, pick: number): Promise<Outcome>;
}

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
async function mcp(attacker: Tenant, method: string, params: unknown): Promise<Outcome & { json: JsonAnswer }> {
  const res = await api(suite.app.url, '/mcp', {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...attacker.headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return { ...res, refused: res.status >= 400 || Boolean(res.json?.error || res.json?.result?.isError) };
}

/** A valid body for each operation that takes one, so that validation passes and the tenant check is what answers. */
const BODIES: Record<string, (victim: Tenant) => unknown> = {
  createContext: () => ({ agent_id: 'intruder', content: [{ role: 'user', content: 'mine' }] }),
  replaceContext: () => ({ content: [{ role: 'user', content: 'overwritten' }] }),
  appendItems: () => ({ items: [{ role: 'user', content: 'appended' }] }),
  searchContext: (victim) => ({ query: victim.secret }),
  restoreContext: () => ({ version: 1 }),
  forkContext: () => ({ agent_id: 'intruder' }),
  createKey: () => ({ scopes: ['admin'] }),
};

async function restAttacks(): Promise<Attack[]> {
  const doc = (await api(suite.app.url, '/api/v1/openapi.json')).json;
  const attacks: Attack[] = [];
  for (const [path, operations] of Object.entries<Record<string, { operationId: string; tags: string[] }>>(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(operations)) {
      attacks.push({
        name: `${method.toUpperCase()} ${path}`,
        run: async (attacker, victim, pick) => {
          const target = path.startsWith('/api/v1/jobs')
            ? victim.jobs
            : path.startsWith('/api/v1/keys') || path.startsWith('/api/v1/admin/keys')
              ? victim.keyPrefixes
              : victim.contexts;
          const concrete = path.replace('{id}', target[pick % target.length]!).replace('{queue}', 'context-upload');
          const query =
            op.operationId === 'listContexts'
              ? `?agent_id=${victim.secret}-agent`
              : op.operationId === 'listKeys' || op.operationId === 'adminlistKeys'
                ? `?tenant_id=${victim.name}`
                : '';
          const body = BODIES[op.operationId.replace(/^admin/, '').replace(/^./, (c) => c.toLowerCase())]?.(victim);
          const res = await api(suite.app.url, `${concrete}${query}`, {
            method: method.toUpperCase(),
            headers: attacker.headers,
            ...(body !== undefined && { json: body }),
          });
          return { ...res, refused: res.status >= 400 };
        },
      });
    }
  }
  return attacks;
}

const TOOL_ARGS: Record<string, (victim: Tenant, id: string) => Record<string, unknown>> = {
  context_get: (_, id) => ({ id }),
  context_status: (_, id) => ({ id }),
  context_summary: (_, id) => ({ id }),
  context_delete: (_, id) => ({ id }),
  context_search: (victim, id) => ({ id, query: victim.secret }),
  context_append: (_, id) => ({ id, items: [{ role: 'user', content: 'appended' }] }),
  context_replace: (_, id) => ({ id, content: [{ role: 'user', content: 'overwritten' }] }),
  context_list: (victim) => ({ agent_id: `${victim.secret}-agent` }),
  context_create: () => ({ agent_id: 'intruder' }),
  context_versions: (_, id) => ({ id }),
  context_restore: (_, id) => ({ id, version: 1 }),
  context_fork: (_, id) => ({ id, agent_id: 'intruder' }),
};

const mcpAttacks: Attack[] = [
  ...Object.entries(TOOL_ARGS).map(([tool, args]) => ({
    name: `MCP ${tool}`,
    run: (attacker: Tenant, victim: Tenant, pick: number) =>
      mcp(attacker, 'tools/call', {
        name: tool,
        arguments: args(victim, victim.contexts[pick % victim.contexts.length]!),
      }),
  })),
  {
    name: 'MCP resources/read',
    run: (attacker, victim, pick) =>
      mcp(attacker, 'resources/read', { uri: `context://${victim.contexts[pick % victim.contexts.length]}` }),
  },
  { name: 'MCP resources/list', run: (attacker) => mcp(attacker, 'resources/list', {}) },
];

const TOOLS_LISTED = Object.keys(TOOL_ARGS).sort();

describe('two tenants', () => {
  it('covers every MCP tool the server lists', async () => {
    const listed = await mcp(tenants.a, 'tools/list', {});
    expect(listed.json.result.tools.map((t: { name: string }) => t.name).sort()).toEqual(TOOLS_LISTED);
  });

  it("random operations of one tenant on the other's contexts, jobs, keys and views: nothing crosses", async () => {
    const before = { a: await holdings(tenants.a), b: await holdings(tenants.b) };
    const attacks = [...(await restAttacks()), ...mcpAttacks];
    expect(attacks.length).toBeGreaterThan(25);
    const tried = new Set<string>();
    const step = fc.record({
      attack: fc.constantFrom(...attacks),
      attacker: fc.constantFrom<'a' | 'b'>('a', 'b'),
      pick: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        for (const { attack, attacker, pick } of steps) {
          const [own, other] = attacker === 'a' ? [tenants.a, tenants.b] : [tenants.b, tenants.a];
          const res = await attack.run(own, other, pick);
          tried.add(attack.name);
          const where = `${attack.name} by ${own.name}: ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, where).toBeLessThan(500);
          expect(res.text, where).not.toContain(other.secret);
          // a refusal may repeat the id it was asked about; an answer that serves something may name none
          if (!res.refused)
            for (const id of [...other.contexts, ...other.jobs, ...other.keyPrefixes])
              expect(res.text.includes(id), `${where} names ${id}`).toBe(false);
        }
      }),
      { numRuns: 120, seed: SEED },
    );
    // every route and tool was tried at least once over the runs (else raise numRuns)
    expect(attacks.filter((attack) => !tried.has(attack.name)).map((a) => a.name)).toEqual([]);
    expect(await holdings(tenants.a)).toBe(before.a);
    expect(await holdings(tenants.b)).toBe(before.b);
  }, 300_000);

  it('the operator views stay closed to tenant keys, even admin-scoped ones', async () => {
    for (const path of ['/api/v1/admin/queues', '/api/v1/admin/keys', '/admin/queues']) {
      expect((await api(suite.app.url, path, { headers: tenants.a.headers })).status, path).toBe(401);
    }
  });
});
