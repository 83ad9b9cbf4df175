import type { ApiKeyRow, NewApiKey } from '@ctxvault/db';
import { describe, expect, it } from 'vitest';
import { type ApiKeyStore, ApiKeys } from './api-keys.ts';

/** The table in memory: a fake for this fast test (the e2e suites use the real one). */
function memoryStore() {
  const rows: (ApiKeyRow & { secret_sha256: string })[] = [];
  const touches: string[] = [];
  const store: ApiKeyStore = {
    insert: async (key: NewApiKey) => {
      const row = {
        id: key.id,
        prefix: key.prefix,
        secret_sha256: key.secretSha256,
        tenant_id: key.tenantId,
        scopes: key.scopes,
        name: key.name,
        created_at: new Date(),
        expires_at: key.expiresAt,
        last_used_at: null,
        revoked_at: null,
      };
      rows.push(row);
      return row;
    },
    findByPrefix: async (prefix) => rows.find((row) => row.prefix === prefix) ?? null,
    list: async (tenantId) => rows.filter((row) => tenantId === undefined || row.tenant_id === tenantId),
    revoke: async (idOrPrefix) => {
      const row = rows.find((r) => r.id === idOrPrefix || r.prefix === idOrPrefix);
      if (row) row.revoked_at = new Date();
      return row ?? null;
    },
    touch: async (id) => {
      touches.push(id);
    },
  };
  return { store, rows, touches };
}

const logger = { info() {}, warn() {}, error() {}, debug() {} };

describe('ApiKeys', () => {
  it('shows the secret once, keeps only its digest, and verifies it to its tenant and scopes', async () => {
    const { store, rows } = memoryStore();
    const keys = new ApiKeys(store, logger);
    const created = await keys.create({ tenantId: 't', scopes: ['read', 'read', 'write'] });
    expect(created.key).toMatch(new RegExp(`^cvk_${created.prefix}_[A-Za-z0-9_-]{43}$`));
    expect(JSON.stringify(rows)).not.toContain(created.key.slice(`cvk_${created.prefix}_`.length));
    expect(await keys.verify(created.key)).toEqual({
      tenantId: 't',
      scopes: ['read', 'write'],
      via: { kind: 'api_key', prefix: created.prefix },
    });
    expect(JSON.stringify(await keys.list('t'))).not.toContain(created.key);
  });

  it('refuses malformed, unknown, wrong-secret, revoked and expired keys with 401', async () => {
    const { store } = memoryStore();
    const keys = new ApiKeys(store, logger);
    const good = await keys.create({ tenantId: 't', scopes: ['read'] });
    const wrongSecret = `${good.key.slice(0, -1)}${good.key.endsWith('A') ? 'B' : 'A'}`;
    const expired = await keys.create({ tenantId: 't', scopes: ['read'], expiresAt: new Date(Date.now() - 1) });
    const revoked = await keys.create({ tenantId: 't', scopes: ['read'] });
    await keys.revoke(revoked.prefix);
    for (const [token, message] of [
      ['cvk_short', 'malformed'],
      [`cvk_zzzzzzzzzzzz_${'A'.repeat(43)}`, 'unknown'],
      [wrongSecret, 'unknown'],
      [expired.key, 'expired'],
      [revoked.key, 'revoked'],
    ] as const)
      await expect(keys.verify(token), message).rejects.toMatchObject({
        status: 401,
        message: expect.stringContaining(message),
      });
  });

  it('records a use at most once a minute per key', async () => {
    const { store, touches } = memoryStore();
    const keys = new ApiKeys(store, logger);
    const created = await keys.create({ tenantId: 't', scopes: ['read'] });
    for (let i = 0; i < 5; i++) await keys.verify(created.key);
    expect(touches).toEqual([created.id]);
  });

  it('trusts a verified key for the cache TTL: no store read, revoked here at once, elsewhere within the TTL, expiry kept', async () => {
    const { store, rows } = memoryStore();
    let reads = 0;
    const counting: ApiKeyStore = {
      ...store,
      findByPrefix: (prefix) => {
        reads++;
        return store.findByPrefix(prefix);
      },
    };
    let now = 1_000_000;
    const keys = new ApiKeys(counting, logger, { cacheTtlMs: 5_000, now: () => now });
    const created = await keys.create({ tenantId: 't', scopes: ['read'], expiresAt: new Date(now + 60_000) });
    for (let i = 0; i < 3; i++) await keys.verify(created.key);
    expect(reads).toBe(1);
    // a wrong secret with a cached prefix is still refused
    const wrongSecret = `${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`;
    await expect(keys.verify(wrongSecret)).rejects.toMatchObject({ status: 401 });

    // revoked by another process (straight in the table): honoured once the TTL has passed
    rows[0] = { ...rows[0]!, revoked_at: new Date(now) };
    now += 4_999;
    await expect(keys.verify(created.key)).resolves.toMatchObject({ tenantId: 't' });
    now += 1;
    await expect(keys.verify(created.key)).rejects.toMatchObject({ message: expect.stringContaining('revoked') });

    // revoked through this process: at once
    const other = await keys.create({ tenantId: 't', scopes: ['read'] });
    await keys.verify(other.key);
    await keys.revoke(other.prefix);
    await expect(keys.verify(other.key)).rejects.toMatchObject({ message: expect.stringContaining('revoked') });

    // a cached key that expires meanwhile is refused
    const brief = await keys.create({ tenantId: 't', scopes: ['read'], expiresAt: new Date(now + 1_000) });
    await keys.verify(brief.key);
    now += 1_000;
    await expect(keys.verify(brief.key)).rejects.toMatchObject({ message: expect.stringContaining('expired') });
  });

  it('reads a key once for all the requests that miss the cache together, and a revocation here wins over a read under way', async () => {
    const { store, rows } = memoryStore();
    let reads = 0;
    let release = () => {};
    const gate = () => new Promise<void>((resolve) => (release = resolve));
    let held = gate();
    const slow: ApiKeyStore = {
      ...store,
      findByPrefix: async (prefix) => {
        reads++;
        const row = rows.find((r) => r.prefix === prefix);
        const asRead = row ? { ...row } : null; // the row as it is when the read starts
        await held;
        return asRead;
      },
    };
    let now = 1_000_000;
    const keys = new ApiKeys(slow, logger, { cacheTtlMs: 5_000, now: () => now });
    const created = await keys.create({ tenantId: 't', scopes: ['read'] });
    const together = Array.from({ length: 20 }, () => keys.verify(created.key));
    release();
    for (const principal of await Promise.all(together)) expect(principal).toMatchObject({ tenantId: 't' });
    expect(reads).toBe(1);

    // the entry expires; a read starts, the key is revoked through this process before it ends
    now += 5_000;
    held = gate();
    const during = keys.verify(created.key);
    await keys.revoke(created.prefix);
    release();
    await expect(during).resolves.toMatchObject({ tenantId: 't' }); // read before the revocation
    await expect(keys.verify(created.key)).rejects.toMatchObject({ message: expect.stringContaining('revoked') });
  });
});
