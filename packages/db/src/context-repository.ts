import { BigIntType, DateTimeType } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import { type Context, ContextEntity, type ContextStatus } from './entities/context.entity.ts';

/** A context's reference row; its items live in segments (segment-repository.ts). */
export type ContextRow = Context;
export type ContextPatch = Partial<ContextRow>;

export interface ListFilters {
  tenant_id: string;
  agent_id?: string;
  session_id?: string;
  model_id?: string;
  format?: string;
  status?: ContextStatus;
  created_after?: Date;
  created_before?: Date;
  /** keyset: only rows whose id sorts before this one (ids are UUIDv7, so time-ordered) */
  before_id?: string;
  limit: number;
}

const ROW_FIELDS = Object.keys(ContextEntity.meta.properties) as never[];
/** The same, as SQL: each property is stored in the column of its own name. */
export const ROW_COLUMNS = (ROW_FIELDS as string[]).map((f) => `"${f}"`).join(', ');
/** Properties a raw query returns as strings (MikroORM's driver settings): bigint ('number' mode) and datetime. */
const properties = Object.entries(ContextEntity.meta.properties) as [string, { type?: unknown }][];
const BIGINT_FIELDS = properties.filter(([, prop]) => prop.type instanceof BigIntType).map(([name]) => name);
const DATE_FIELDS = properties.filter(([, prop]) => prop.type === DateTimeType).map(([name]) => name);

/** The `contexts` table. Each call runs on its own fork so no identity map outlives a request. */
export class ContextRepository {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork({ clear: true, useContext: false });
  }

  /** Inserts a bare row (no version, no segment): fixtures; contexts are created with their first version by SegmentRepository. */
  async insert(row: ContextRow): Promise<void> {
    await this.em().insert(ContextEntity, row);
  }

  /**
   * A live context (not deleted or being deleted) of the tenant. Every read starts
   * here, a cached one included, so it is one primary-key lookup with no entity hydration.
   */
  async findLive(tenantId: string, id: string): Promise<ContextRow | null> {
    // on the driver's pool: no entity manager fork, no query builder, for the hottest lookup
    const pool: Pool = await this.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<Record<string, unknown>>(
      `select ${ROW_COLUMNS} from contexts where id = $1 and tenant_id = $2 and deleted_at is null and status <> 'deleting'`,
      [id, tenantId],
    );
    return rows[0] ? fromColumns(rows[0]) : null;
  }

  /** The context a create with this Idempotency-Key made, whatever its state. */
  async findByIdempotencyKey(tenantId: string, key: string): Promise<ContextRow | null> {
    const row = await this.em().findOne(
      ContextEntity,
      { tenant_id: tenantId, idempotency_key: key },
      { fields: ROW_FIELDS },
    );
    return row ? toPlain(row) : null;
  }

  /** Any row with this id, whatever its state: for workers. */
  async findAny(id: string): Promise<ContextRow | null> {
    const row = await this.em().findOne(ContextEntity, { id }, { fields: ROW_FIELDS });
    return row ? toPlain(row) : null;
  }

  /** A tenant's live contexts and the bytes of their bodies, for its quotas. */
  async usage(tenantId: string): Promise<{ contexts: number; bytes: number }> {
    const rows = await this.em().execute<{ contexts: string; bytes: string }[]>(
      'select count(*) as contexts, coalesce(sum(size_bytes), 0) as bytes from contexts where tenant_id = ? and deleted_at is null',
      [tenantId],
    );
    return { contexts: Number(rows[0]?.contexts ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
  }

  /**
   * Applies `patch` only if the row is still at `expectedVersion` (and, when given, in one of
   * `fromStatuses`). Returns false when someone else got there first.
   */
  async updateIfVersion(
    id: string,
    expectedVersion: number,
    patch: ContextPatch,
    fromStatuses?: ContextStatus[],
  ): Promise<boolean> {
    const where = { id, version: expectedVersion, ...(fromStatuses ? { status: { $in: fromStatuses } } : {}) };
    const changed = await this.em().nativeUpdate(ContextEntity, where, { ...patch, updated_at: new Date() });
    return changed > 0;
  }

  async remove(id: string): Promise<void> {
    await this.em().nativeDelete(ContextEntity, { id });
  }

  /** Live contexts, newest first. An expired one is gone at once, as for a read, not at the next lifecycle pass. */
  async list(filters: ListFilters, now = new Date()): Promise<ContextRow[]> {
    const where: Record<string, unknown> = {
      tenant_id: filters.tenant_id,
      deleted_at: null,
      status: { $ne: 'deleting' },
      $or: [{ expires_at: null }, { expires_at: { $gt: now } }],
    };
    if (filters.agent_id !== undefined) where.agent_id = filters.agent_id;
    if (filters.session_id !== undefined) where.session_id = filters.session_id;
    if (filters.model_id !== undefined) where.model_id = filters.model_id;
    if (filters.format !== undefined) where.format = filters.format;
    if (filters.status !== undefined) where.status = filters.status;
    const created: Record<string, Date> = {};
    if (filters.created_after) created.$gt = filters.created_after;
    if (filters.created_before) created.$lt = filters.created_before;
    if (Object.keys(created).length) where.created_at = created;
    if (filters.before_id) where.id = { $lt: filters.before_id };
    const rows = await this.em().find(ContextEntity, where, {
      fields: ROW_FIELDS,
      orderBy: { id: 'desc' },
      limit: filters.limit,
    });
    return rows.map(toPlain);
  }

  /**
   * A page of contexts to export, oldest id first after `afterId`: every state but `deleting`,
   * of one tenant or all, of one agent or all, updated since a time or ever.
   */
  async exportPage(filter: ExportFilter, afterId: string | null, limit: number): Promise<ContextRow[]> {
    const { where, params } = exportWhere(filter);
    const rows = await this.em().execute<Record<string, unknown>[]>(
      `select ${ROW_COLUMNS} from contexts where ${where} and (?::uuid is null or id > ?::uuid) order by id limit ?`,
      [...params, afterId, afterId, limit],
    );
    return rows.map(fromColumns);
  }

  /** How many contexts an export of `filter` holds (for its progress). */
  async exportCount(filter: ExportFilter): Promise<number> {
    const { where, params } = exportWhere(filter);
    const rows = await this.em().execute<{ n: string }[]>(`select count(*) as n from contexts where ${where}`, params);
    return Number(rows[0]?.n ?? 0);
  }

  /** Pending rows not touched for `olderThanMs`: their job may have been lost with Redis. */
  async findStalePending(
    olderThanMs: number,
    limit: number,
  ): Promise<Pick<ContextRow, 'id' | 'version' | 'tenant_id'>[]> {
    return this.em().execute(
      `select id, version, tenant_id from contexts where status = 'pending' and updated_at < now() - (? * interval '1 millisecond') order by updated_at limit ?`,
      [olderThanMs, limit],
    );
  }

  /** Live rows whose expiry has passed. */
  async findExpired(now: Date, limit: number): Promise<Pick<ContextRow, 'id' | 'version' | 'tenant_id'>[]> {
    return this.em().execute(
      `select id, version, tenant_id from contexts where expires_at <= ? and status <> 'deleting' order by expires_at limit ?`,
      [now, limit],
    );
  }

  /** Rows marked for deletion whose delete job may have been lost. */
  async findStaleDeleting(olderThanMs: number, limit: number): Promise<Pick<ContextRow, 'id' | 'tenant_id'>[]> {
    return this.em().execute(
      `select id, tenant_id from contexts where status = 'deleting' and updated_at < now() - (? * interval '1 millisecond') order by updated_at limit ?`,
      [olderThanMs, limit],
    );
  }
}

/** Which contexts an export takes. */
export interface ExportFilter {
  tenant_id?: string;
  agent_id?: string;
  /** only contexts updated at or after this time */
  since?: Date;
}

function exportWhere(filter: ExportFilter): { where: string; params: unknown[] } {
  const clauses = ["status <> 'deleting'", 'deleted_at is null'];
  const params: unknown[] = [];
  if (filter.tenant_id !== undefined) {
    clauses.push('tenant_id = ?');
    params.push(filter.tenant_id);
  }
  if (filter.agent_id !== undefined) {
    clauses.push('agent_id = ?');
    params.push(filter.agent_id);
  }
  if (filter.since !== undefined) {
    clauses.push('updated_at >= ?');
    params.push(filter.since);
  }
  return { where: clauses.join(' and '), params };
}

/** A raw row as the entity would have hydrated it. */
export function fromColumns(raw: Record<string, unknown>): ContextRow {
  const row = { ...raw };
  for (const field of BIGINT_FIELDS) if (typeof row[field] === 'string') row[field] = Number(row[field]);
  for (const field of DATE_FIELDS) if (typeof row[field] === 'string') row[field] = new Date(row[field]);
  return toPlain(row);
}

function toPlain(row: object): ContextRow {
  const plain = { ...(row as ContextRow) };
  // bigint columns come back as numbers ('number' mode); jsonb may come back null on old rows
  plain.metadata ??= {};
  return plain;
}
