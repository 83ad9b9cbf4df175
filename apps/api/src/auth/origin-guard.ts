import { isLoopback } from '@ctxvault/config';
import { ForbiddenError } from '@ctxvault/core';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';

export interface OriginGuardOptions {
  /** server.allowed_hosts: `host` or `host:port` entries, or `*` for any Host */
  allowedHosts: readonly string[];
  /** server.allowed_origins: `scheme://host[:port]` entries */
  allowedOrigins: readonly string[];
}

/**
 * DNS-rebinding and cross-site protection: the `Host` must be a loopback name or one of
 * server.allowed_hosts, and a browser's `Origin`, when sent, must be this same host or one of
 * server.allowed_origins. A page on evil.example that rebinds its name to 127.0.0.1 sends
 * `Host: evil.example` and `Origin: http://evil.example`; both are refused with 403.
 */
export function originGuard(options: OriginGuardOptions) {
  const check = originCheck(options);
  return createMiddleware(async function originGuardMiddleware(c, next) {
    check(c);
    await next();
  });
}

/** The check `originGuard` makes, for a middleware that does it among other things: throws 403. */
export function originCheck({ allowedHosts, allowedOrigins }: OriginGuardOptions): (c: Context) => void {
  const anyHost = allowedHosts.includes('*');
  const hosts = new Set(allowedHosts.map((host) => host.toLowerCase()));
  const origins = new Set(allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/+$/, '')));
  const hostAllowed = (host: string) => {
    const name = hostName(host);
    return anyHost || isLoopback(name) || hosts.has(host) || hosts.has(name);
  };
  return (c) => {
    const host = (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
    if (!hostAllowed(host))
      throw new ForbiddenError(
        `Host "${host}" is not served here: add it to server.allowed_hosts (MCP_SERVER_ALLOWED_HOSTS)`,
        'host_not_allowed',
      );
    const origin = c.req.header('origin')?.toLowerCase();
    if (origin !== undefined && !origins.has(origin) && URL.parse(origin)?.host !== host)
      throw new ForbiddenError(
        `Origin "${origin}" may not call this: add it to server.allowed_origins (MCP_SERVER_ALLOWED_ORIGINS)`,
        'origin_not_allowed',
      );
  };
}

/** The name of a Host header value, without its port (`[::1]:8080` → `[::1]`). */
function hostName(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
}
