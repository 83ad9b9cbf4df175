import { ForbiddenError } from './errors/index.ts';

/** quotas.* that a write checks (0: no limit). */
export interface TenantQuotas {
  maxContexts: number;
  maxStoredBytes: number;
}

/** What a tenant holds now: its live contexts and their body bytes. */
export type TenantUsage = (tenantId: string) => Promise<{ contexts: number; bytes: number }>;

/**
 * Refuses a write (403 quota_exceeded) once the tenant is at a quota: a create when it has
 * max_contexts live contexts, any write when its stored bytes have reached max_stored_bytes. The
 * write that crosses a quota is let through, so a tenant ends at most one body over it.
 */
export async function checkQuotas(
  usage: TenantUsage,
  quotas: TenantQuotas,
  tenantId: string,
  creates: boolean,
): Promise<void> {
  if (quotas.maxStoredBytes === 0 && (quotas.maxContexts === 0 || !creates)) return;
  const held = await usage(tenantId);
  if (creates && quotas.maxContexts > 0 && held.contexts >= quotas.maxContexts)
    throw new ForbiddenError(
      `tenant ${tenantId} has ${held.contexts} contexts, its quota (quotas.max_contexts); delete some first`,
      'quota_exceeded',
      { quota: 'max_contexts', limit: quotas.maxContexts, used: held.contexts },
    );
  if (quotas.maxStoredBytes > 0 && held.bytes >= quotas.maxStoredBytes)
    throw new ForbiddenError(
      `tenant ${tenantId} stores ${held.bytes} bytes, its quota (quotas.max_stored_bytes); delete some first`,
      'quota_exceeded',
      { quota: 'max_stored_bytes', limit: quotas.maxStoredBytes, used: held.bytes },
    );
}
