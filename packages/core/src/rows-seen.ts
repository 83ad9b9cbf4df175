import type { ContextRow } from '@ctxvault/db';

/**
 * The live rows this process last read or wrote, most recent last, at most `max`. A row here may be
 * stale (another process may have written since): it only saves the lookup of a small append,
 * whose commit checks the version and segments it expects and fails, with nothing written, when
 * they moved on. Keyed by tenant and id, and filled only from lookups of that tenant.
 */
export class RowsSeen {
  private readonly rows = new Map<string, ContextRow>();

  constructor(private readonly max: number) {}

  get(tenantId: string, id: string): ContextRow | undefined {
    return this.rows.get(keyOf(tenantId, id));
  }

  /** Remembers a live row (a row being deleted is forgotten instead). */
  keep(row: ContextRow): void {
    const key = keyOf(row.tenant_id, row.id);
    this.rows.delete(key);
    if (row.status === 'deleting' || row.deleted_at) return;
    this.rows.set(key, row);
    if (this.rows.size > this.max) this.rows.delete(this.rows.keys().next().value as string);
  }

  forget(tenantId: string, id: string): void {
    this.rows.delete(keyOf(tenantId, id));
  }
}

function keyOf(tenantId: string, id: string): string {
  return `${tenantId}\u0000${id}`;
}
