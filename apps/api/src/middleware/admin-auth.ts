import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@ctxvault/core';
import { createMiddleware } from 'hono/factory';

export interface AdminAuthOptions {
  /** admin.token: the password of HTTP Basic (any user name) or the Bearer token */
  token: string;
}

/**
 * Lets a request through when it presents the admin token: `Authorization: Basic` with the token as
 * password (browsers, which the 401's `WWW-Authenticate` prompts) or `Authorization: Bearer <token>`.
 */
export function adminAuth({ token }: AdminAuthOptions) {
  const expected = digest(token);
  return createMiddleware(async function adminAuthMiddleware(c, next) {
    const presented = presentedToken(c.req.header('authorization'));
    if (presented === null)
      throw new UnauthorizedError(
        'this needs the admin token (admin.token): HTTP Basic with it as password, or Authorization: Bearer',
      );
    // compared as digests, so neither the length nor the content leaks through timing
    if (!timingSafeEqual(digest(presented), expected)) throw new UnauthorizedError('wrong admin token');
    await next();
  });
}

function presentedToken(header: string | undefined): string | null {
  const match = /^\s*(Basic|Bearer)\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const [, scheme, value = ''] = match;
  if (scheme!.toLowerCase() === 'bearer') return value;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : decoded.slice(colon + 1);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
