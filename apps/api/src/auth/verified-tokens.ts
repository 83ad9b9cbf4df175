import { hash } from 'node:crypto';
import type { Principal } from '@ctxvault/core';

/** At most this many verified tokens are kept per process (the cache starts over beyond). */
const MAX_ENTRIES = 10_000;

/** A token's principal and when the token expires (ms since the epoch; null: never). */
export interface VerifiedToken {
  principal: Principal;
  expiresAt: number | null;
}

/**
 * `verify` with the tokens verified lately kept by the SHA-256 of the token (never the token itself),
 * so that a request with one costs no signature check: an entry is trusted for `ttlMs`
 * (auth.key_cache_ttl; 0: no cache) and never past the token's own expiry.
 */
export function cachedVerifications(
  verify: (token: string) => Promise<VerifiedToken>,
  { ttlMs, now = Date.now }: { ttlMs: number; now?: () => number },
): (token: string) => Promise<Principal> {
  if (ttlMs <= 0) return async (token) => (await verify(token)).principal;
  const verified = new Map<string, { principal: Principal; until: number }>();
  return async (token) => {
    const key = hash('sha256', token, 'base64');
    const hit = verified.get(key);
    if (hit && now() < hit.until) return hit.principal;
    if (hit) verified.delete(key);
    const { principal, expiresAt } = await verify(token);
    if (verified.size >= MAX_ENTRIES) verified.clear();
    verified.set(key, { principal, until: Math.min(now() + ttlMs, expiresAt ?? Number.POSITIVE_INFINITY) });
    return principal;
  };
}
