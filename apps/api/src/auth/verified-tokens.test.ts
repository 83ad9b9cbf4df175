import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../../../../test/helpers/oidc-issuer.ts';
import { jwtVerifier } from './jwt-verifier.ts';
import { cachedVerifications, type VerifiedToken } from './verified-tokens.ts';

const principal = (tenantId: string): VerifiedToken['principal'] => ({
  tenantId,
  scopes: ['read'],
  via: { kind: 'jwt', subject: null },
});

describe('cachedVerifications', () => {
  it('verifies a token once within the TTL, again after it, and never trusts it past its expiry', async () => {
    let now = 1_000_000;
    const verified: string[] = [];
    const verify = cachedVerifications(
      async (token) => {
        verified.push(token);
        return { principal: principal(token), expiresAt: token === 'brief' ? now + 1_000 : null };
      },
      { ttlMs: 5_000, now: () => now },
    );
    for (let i = 0; i < 3; i++) expect(await verify('a')).toMatchObject({ tenantId: 'a' });
    expect(verified).toEqual(['a']);
    now += 5_000;
    await verify('a');
    expect(verified).toEqual(['a', 'a']);
    await verify('brief');
    now += 999;
    await verify('brief');
    now += 1;
    await verify('brief');
    expect(verified).toEqual(['a', 'a', 'brief', 'brief']);
  });

  it('verifies every time with a TTL of 0, and caches no refusal', async () => {
    let calls = 0;
    const verify = cachedVerifications(
      async (token) => {
        calls++;
        if (token === 'bad') throw new Error('refused');
        return { principal: principal(token), expiresAt: null };
      },
      { ttlMs: 0 },
    );
    await verify('a');
    await verify('a');
    expect(calls).toBe(2);
    const cached = cachedVerifications(
      async () => {
        calls++;
        throw new Error('refused');
      },
      { ttlMs: 5_000 },
    );
    await expect(cached('bad')).rejects.toThrow('refused');
    await expect(cached('bad')).rejects.toThrow('refused');
    expect(calls).toBe(4);
  });
});

describe('jwtVerifier with its cache', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(() => issuer?.close());

  it('refuses a cached token once it has expired, whatever the TTL', async () => {
    let now = Date.now();
    const verify = jwtVerifier({
      issuer: issuer.issuer,
      audience: 'aud',
      jwksUrl: issuer.jwksUrl,
      tenantClaim: 'org',
      scopesClaim: 'scope',
      cacheTtlMs: 3_600_000,
      now: () => now,
    });
    const token = await issuer.token({ aud: 'aud', org: 'alice', scope: 'read' }, { expiresIn: '60s' });
    await expect(verify(token)).resolves.toMatchObject({ tenantId: 'alice', scopes: ['read'] });
    now += 30_000;
    await expect(verify(token)).resolves.toMatchObject({ tenantId: 'alice' });
    now += 31_000;
    await expect(verify(token)).rejects.toMatchObject({ status: 401, message: 'invalid token: expired' });
  });
});
