import { type Principal, UnauthorizedError } from '@ctxvault/core';
import { API_KEY_SCOPES, type ApiKeyScope } from '@ctxvault/db';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import { cachedVerifications, type VerifiedToken } from './verified-tokens.ts';

export interface JwtSettings {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** the claim that names the tenant */
  tenantClaim: string;
  /** the claim with the scopes: a space-separated string (OAuth `scope`) or an array */
  scopesClaim: string;
  /** how long a verified token is trusted without checking it again (auth.key_cache_ttl), never past its `exp`; 0: never */
  cacheTtlMs: number;
  /** the clock, for tests */
  now?: () => number;
}

const TENANT = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Verifies OAuth 2.1 / OIDC access tokens against the issuer's JWKS (fetched and cached by jose); a
 * token verified lately is trusted again for `cacheTtlMs`, within its expiry.
 */
export function jwtVerifier(settings: JwtSettings): (token: string) => Promise<Principal> {
  const keys = createRemoteJWKSet(new URL(settings.jwksUrl));
  const now = settings.now ?? Date.now;
  async function verifyJwt(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: settings.issuer,
        audience: settings.audience,
        currentDate: new Date(now()),
      }));
    } catch (err) {
      throw new UnauthorizedError(`invalid token: ${describe(err)}`);
    }
    const tenant = payload[settings.tenantClaim];
    if (typeof tenant !== 'string' || !TENANT.test(tenant))
      throw new UnauthorizedError(`the token's ${settings.tenantClaim} claim does not name a tenant`);
    return {
      principal: {
        tenantId: tenant,
        scopes: scopesOf(payload[settings.scopesClaim]),
        via: { kind: 'jwt', subject: payload.sub ?? null },
      },
      expiresAt: payload.exp === undefined ? null : payload.exp * 1000,
    };
  }
  return cachedVerifications(verifyJwt, { ttlMs: settings.cacheTtlMs, now });
}

function scopesOf(claim: unknown): ApiKeyScope[] {
  const given = typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
  return API_KEY_SCOPES.filter((scope) => given.includes(scope));
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim} is not accepted`;
  if (err instanceof errors.JWKSNoMatchingKey) return 'signed by no key of the issuer';
  if (err instanceof errors.JOSEError) return err.code;
  return 'the issuer keys could not be fetched';
}
