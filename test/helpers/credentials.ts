// API keys for the suites, made as `ctxvault keys create` makes them (the same ApiKeys code, on the
// deployment's database), and the headers `api()` sends for each deployment.
import { ApiKeys } from '@ctxvault/core';
import { ApiKeyRepository, type ApiKeyScope, createOrm } from '@ctxvault/db';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** A new key of `tenantId` with `scopes`: the secret to send as `Authorization: Bearer`. */
export async function createApiKey(
  databaseUrl: string,
  tenantId: string,
  scopes: ApiKeyScope[] = ['admin'],
  options: { expiresAt?: Date } = {},
): Promise<string> {
  const orm = await createOrm({ url: databaseUrl, poolMax: 1 });
  try {
    const created = await new ApiKeys(new ApiKeyRepository(orm), quiet).create({ tenantId, scopes, ...options });
    return created.key;
  } finally {
    await orm.close();
  }
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** What `api()` sends to a base URL when the call gives no credential of its own. */
const defaults = new Map<string, Record<string, string>>();

export function useCredentials(base: string, headers: Record<string, string>): void {
  defaults.set(base, headers);
}

/** The base's credential headers, unless `headers` already carry a credential or a tenant. */
export function withCredentials(base: string, headers: Headers): Headers {
  if (headers.has('authorization') || headers.has('x-tenant-id')) return headers;
  for (const [name, value] of Object.entries(defaults.get(base) ?? {})) headers.set(name, value);
  return headers;
}

/**
 * Makes the global fetch send each deployment's credential, for scripts (the benches) that call the
 * API with fetch throughout: other hosts (bare baselines) get their requests unchanged.
 */
export function sendCredentialsWithFetch(): void {
  const plain = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const given = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    return plain(input, { ...init, headers: withCredentials(url.origin, given) });
  };
}
