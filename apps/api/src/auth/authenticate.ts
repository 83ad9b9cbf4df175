import { ApiKeys, ForbiddenError, hasScope, type Principal, UnauthorizedError, ValidationError } from '@ctxvault/core';
import type { ApiKeyScope } from '@ctxvault/db';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv, AuthMode } from '../env.ts';

export interface AuthOptions {
  mode: AuthMode;
  keys: ApiKeys;
  /** with mode "jwt": verifies a bearer token that is not an API key */
  verifyJwt?: (token: string) => Promise<Principal>;
  /** auth.resource_url: this server as OAuth clients see it; empty: the request's own origin */
  resourceUrl: string;
}

const TENANT = /^[A-Za-z0-9._-]{1,128}$/;
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/**
 * Establishes who the request speaks for, from its credential: an API key (`Authorization: Bearer
 * cvk_…`) or, with auth.mode "jwt", an access token. Only with auth.mode "none" does the tenant come
 * from `X-Tenant-Id` (default "default"); otherwise an `X-Tenant-Id` naming another tenant is refused.
 * Then requires `scope` (a function of the request, e.g. read for GET, write otherwise).
 */
export function authenticate(
  { mode, keys, verifyJwt, resourceUrl }: AuthOptions,
  scope: (c: Context<ApiEnv>) => ApiKeyScope,
) {
  return createMiddleware<ApiEnv>(async function authenticateMiddleware(c, next) {
    const claimed = c.req.header('x-tenant-id');
    if (claimed !== undefined && !TENANT.test(claimed)) {
      throw new ValidationError('X-Tenant-Id must be 1-128 characters of letters, digits, ".", "_" or "-"', [
        { path: 'header:x-tenant-id', message: 'invalid tenant id' },
      ]);
    }
    const principal: Principal =
      mode === 'none'
        ? { tenantId: claimed ?? 'default', scopes: ['admin'], via: { kind: 'none' } }
        : await credentialOf(c, mode, keys, verifyJwt, resourceUrl);
    if (claimed !== undefined && claimed !== principal.tenantId)
      throw new ForbiddenError(`X-Tenant-Id "${claimed}" is not the tenant of this credential`, 'tenant_mismatch');
    const needed = scope(c);
    if (!hasScope(principal, needed))
      throw new ForbiddenError(
        `this needs the "${needed}" scope; the credential has ${JSON.stringify(principal.scopes)}`,
        'insufficient_scope',
        { needed },
      );
    c.set('principal', principal);
    c.set('tenantId', principal.tenantId);
    c.var.logger.debug({ tenant: principal.tenantId, via: principal.via }, 'authenticated');
    await next();
  });
}

async function credentialOf(
  c: Context<ApiEnv>,
  mode: Exclude<AuthMode, 'none'>,
  keys: ApiKeys,
  verifyJwt: AuthOptions['verifyJwt'],
  resourceUrl: string,
): Promise<Principal> {
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  if (!match) {
    throw new UnauthorizedError(
      mode === 'jwt'
        ? 'this needs Authorization: Bearer with an access token of the issuer (auth.jwt.issuer) or an API key'
        : 'this needs Authorization: Bearer with an API key (ctxvault keys create)',
      bearerChallenge(c, mode, resourceUrl),
    );
  }
  const token = match[1]!;
  try {
    if (ApiKeys.looksLikeKey(token) || mode === 'api_key' || !verifyJwt) return await keys.verify(token);
    return await verifyJwt(token);
  } catch (err) {
    if (err instanceof UnauthorizedError)
      throw new UnauthorizedError(err.message, `${bearerChallenge(c, mode, resourceUrl)}, error="invalid_token"`);
    throw err;
  }
}

/** `WWW-Authenticate: Bearer …`, naming the Protected Resource Metadata (RFC 9728) for OAuth clients. */
function bearerChallenge(c: Context<ApiEnv>, mode: Exclude<AuthMode, 'none'>, resourceUrl: string): string {
  const metadata =
    mode === 'jwt' ? `, resource_metadata="${publicOrigin(c, resourceUrl)}${PROTECTED_RESOURCE_PATH}"` : '';
  return `Bearer realm="ctxvault"${metadata}`;
}

/** read for GET and HEAD, write for everything else. */
export function scopeByMethod(c: Context<ApiEnv>): ApiKeyScope {
  return c.req.method === 'GET' || c.req.method === 'HEAD' ? 'read' : 'write';
}

/** This server's origin as clients reach it: auth.resource_url's, else the request's (its Host is checked). */
export function publicOrigin(c: Context, resourceUrl: string): string {
  return new URL(resourceUrl || c.req.url).origin;
}
