// auth.mode "jwt" against real processes: OAuth 2.1 / OIDC access tokens verified against an
// issuer's JWKS served by a local HTTP server, the tenant and scopes from configurable claims, the
// RFC 9728 metadata a 401 names, and API keys beside tokens.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/contexts.ts';
import { bearer, createApiKey } from '../helpers/credentials.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.ts';
import { useSuite } from '../helpers/suite.ts';

const AUDIENCE = 'https://ctxvault.test/mcp';
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer?.close());

const suite = useSuite({
  env: async () => ({
    MCP_AUTH_MODE: 'jwt',
    MCP_AUTH_JWT_ISSUER: issuer.issuer,
    MCP_AUTH_JWT_AUDIENCE: AUDIENCE,
    MCP_AUTH_JWT_JWKS_URL: issuer.jwksUrl,
    MCP_AUTH_JWT_TENANT_CLAIM: 'org',
    MCP_AUTH_JWT_SCOPES_CLAIM: 'scp',
  }),
});

const token = (claims: Record<string, unknown>, options?: { expiresIn?: string; foreignKey?: boolean }) =>
  issuer.token({ aud: AUDIENCE, sub: 'user-1', ...claims }, options);

describe('auth.mode "jwt"', () => {
  it('takes the tenant and scopes from the configured claims', async () => {
    const alice = bearer(await token({ org: 'alice', scp: 'read write' }));
    const bob = bearer(await token({ org: 'bob', scp: ['read'] }));
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: alice,
      json: { agent_id: 'j', content: [{ role: 'user', content: 'hi' }] },
    });
    expect(created.status).toBe(201);
    expect(created.json.tenant_id).toBe('alice');
    expect((await api(suite.app.url, `/api/v1/contexts/${created.json.id}`, { headers: bob })).status).toBe(404);
    const write = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: bob,
      json: { agent_id: 'x' },
    });
    expect(write.status).toBe(403);
    expect(write.json.error.code).toBe('insufficient_scope');
  });

  it('refuses tokens with the wrong audience, issuer, key or expiry, or without a tenant', async () => {
    const cases = {
      audience: await token({ org: 'a', scp: 'read', aud: 'https://other.example' }),
      issuer: await token({ org: 'a', scp: 'read', iss: 'https://evil.example' }),
      key: await token({ org: 'a', scp: 'read' }, { foreignKey: true }),
      expired: await token({ org: 'a', scp: 'read' }, { expiresIn: '-1m' }),
      tenant: await token({ scp: 'read' }),
    };
    for (const [what, jwt] of Object.entries(cases)) {
      const res = await api(suite.app.url, '/api/v1/contexts', { headers: bearer(jwt) });
      expect(res.status, what).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('a 401 on /mcp names the Protected Resource Metadata, which names the issuer', async () => {
    const res = await api(suite.app.url, '/mcp', { method: 'POST', headers: { authorization: '' }, json: {} });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(`${suite.app.url}/.well-known/oauth-protected-resource`);
    const metadata = await api(suite.app.url, new URL(metadataUrl!).pathname);
    expect(metadata.json).toMatchObject({
      resource: `${suite.app.url}/mcp`,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
    });
  });

  it('an MCP client with a token works on its tenant; API keys work beside tokens', async () => {
    const client = new Client({ name: 'jwt-e2e', version: '1' });
    const jwt = await token({ org: 'mcp-org', scp: 'write' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${suite.app.url}/mcp`), { requestInit: { headers: bearer(jwt) } }),
    );
    try {
      const created = await client.callTool({ name: 'context_create', arguments: { agent_id: 'via-mcp' } });
      expect(created.structuredContent).toMatchObject({ context: { tenant_id: 'mcp-org' } });
    } finally {
      await client.close();
    }
    const key = bearer(await createApiKey(suite.db.url, 'mcp-org', ['read']));
    const listed = await api(suite.app.url, '/api/v1/contexts', { headers: key });
    expect(listed.json.items.map((c: { agent_id: string }) => c.agent_id)).toEqual(['via-mcp']);
  });
});
