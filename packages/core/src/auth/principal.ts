import type { ApiKeyScope } from '@ctxvault/db';

/** Who a request speaks for: the tenant and what it may do, always taken from its credential. */
export interface Principal {
  tenantId: string;
  scopes: readonly ApiKeyScope[];
  /** how it was established: an API key (its prefix), a JWT (its subject), or no authentication */
  via: { kind: 'api_key'; prefix: string } | { kind: 'jwt'; subject: string | null } | { kind: 'none' };
}

/** `admin` includes `write`, which includes `read`. */
export function hasScope(principal: Principal, needed: ApiKeyScope): boolean {
  const rank = { read: 0, write: 1, admin: 2 } as const;
  return principal.scopes.some((scope) => rank[scope] >= rank[needed]);
}
