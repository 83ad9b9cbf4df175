import type { ContextRow } from '@ctxvault/db';

/** A segment of a version this process read: its id and version, as the body cache keys it. */
export interface SeenSegment {
  id: string;
  version: number;
}

interface Seen {
  row: ContextRow;
  inline: readonly SeenSegment[];
}

/**
 * The live rows this process last read or wrote, most recent last, at most `max`. A row here may be
 * stale (another process may have written since): it only saves the lookup of a small append,
 * whose commit checks the version and segments it expects and fails, with nothing written, when
 * they moved on. Keyed by tenant and id, and filled only from lookups of that tenant. With each
 * row, the inline segments its last read met: a hint of which bodies the next read may find in
 * the body cache (segments are immutable, so a stale hint costs only a lookup).
 */
export class RowsSeen {
  private readonly rows = new Map<string, Seen>();

  constructor(private readonly max: number) {}

  get(tenantId: string, id: string): ContextRow | undefined {
    return this.rows.get(keyOf(tenantId, id))?.row;
  }

  /** The inline segments the last read of this context met. */
  inlineOf(tenantId: string, id: string): readonly SeenSegment[] {
    return this.rows.get(keyOf(tenantId, id))?.inline ?? [];
  }

  /**
   * Remembers a live row (a row being deleted is forgotten instead), and the inline segments a read
   * of it met; a write, which passes none, keeps those of the last read (an append keeps them all).
   */
  keep(row: ContextRow, inline?: readonly SeenSegment[]): void {
    const key = keyOf(row.tenant_id, row.id);
    const before = this.rows.get(key);
    this.rows.delete(key);
    if (row.status === 'deleting' || row.deleted_at) return;
    this.rows.set(key, { row, inline: inline ?? before?.inline ?? [] });
    if (this.rows.size > this.max) this.rows.delete(this.rows.keys().next().value as string);
  }

  forget(tenantId: string, id: string): void {
    this.rows.delete(keyOf(tenantId, id));
  }
}

function keyOf(tenantId: string, id: string): string {
  return `${tenantId}\u0000${id}`;
}
