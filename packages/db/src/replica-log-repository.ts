import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';

/** What the replica owes for one key: a copy of the primary's object, or (`deleted`) its removal. */
export interface ReplicaEntry {
  key: string;
  generation: number;
  deleted: boolean;
  replicated_at: Date | null;
}

/** How far the replica is behind: keys it owes and how long the oldest has waited. */
export interface ReplicaLag {
  pending_objects: number;
  /** seconds since the oldest owed change; 0 when none is owed */
  lag_seconds: number;
}

const BUMP = `generation = replica_objects.generation + 1, changed_at = now(), replicated_at = null`;

/**
 * The replica log (table `replica_objects`): the workers record every object they write to or remove
 * from the primary, and the replication jobs mark each key once the replica holds the same state.
 * Postgres is the record of what the replica still owes: jobs Redis lost are found here again.
 */
export class ReplicaLogRepository {
  constructor(private readonly orm: MikroORM) {}

  /** The primary now holds `key` (new or rewritten): the replica owes a copy. */
  async recordWrite(key: string, sizeBytes: number): Promise<void> {
    const pool = await this.pool();
    await pool.query(
      `insert into replica_objects (key, size_bytes, changed_at) values ($1, $2, now())
       on conflict (key) do update set deleted = false, size_bytes = excluded.size_bytes, ${BUMP}`,
      [key, sizeBytes],
    );
  }

  /**
   * The primary no longer holds these keys, nor any key under `prefix` (when given): the replica
   * owes their removal. Returns every key now owed a removal, for enqueueing.
   */
  async recordDeletes(keys: readonly string[], prefix?: string): Promise<string[]> {
    const pool = await this.pool();
    const owed = new Set<string>();
    if (keys.length) {
      const { rows } = await pool.query<{ key: string }>(
        `insert into replica_objects (key, deleted, changed_at) select unnest($1::text[]), true, now()
         on conflict (key) do update set deleted = true, ${BUMP} returning key`,
        [[...new Set(keys)]],
      );
      for (const row of rows) owed.add(row.key);
    }
    if (prefix !== undefined) {
      const { rows } = await pool.query<{ key: string }>(
        `update replica_objects set deleted = true, ${BUMP}
          where starts_with(key, $1) and not (deleted and replicated_at is null) returning key`,
        [prefix],
      );
      for (const row of rows) owed.add(row.key);
    }
    return [...owed];
  }

  async find(key: string): Promise<ReplicaEntry | null> {
    const pool = await this.pool();
    // bigint and timestamptz arrive as text from this pool
    const { rows } = await pool.query<{
      key: string;
      generation: string;
      deleted: boolean;
      replicated_at: string | null;
    }>('select key, generation, deleted, replicated_at from replica_objects where key = $1', [key]);
    const row = rows[0];
    if (!row) return null;
    const replicatedAt = row.replicated_at === null ? null : new Date(row.replicated_at);
    return { ...row, generation: Number(row.generation), replicated_at: replicatedAt };
  }

  /** The replica holds the copy of `generation`; false when the key changed meanwhile. */
  async markReplicated(key: string, generation: number): Promise<boolean> {
    const pool = await this.pool();
    const { rowCount } = await pool.query(
      'update replica_objects set replicated_at = now() where key = $1 and generation = $2 and not deleted',
      [key, generation],
    );
    return rowCount === 1;
  }

  /** The replica removed the key as of `generation`: nothing more is owed; false when it changed meanwhile. */
  async forget(key: string, generation: number): Promise<boolean> {
    const pool = await this.pool();
    const { rowCount } = await pool.query(
      'delete from replica_objects where key = $1 and generation = $2 and deleted',
      [key, generation],
    );
    return rowCount === 1;
  }

  /** `replica verify --repair` copied the object itself: the replica is in step with the primary. */
  async recordInStep(key: string, sizeBytes: number): Promise<void> {
    const pool = await this.pool();
    await pool.query(
      `insert into replica_objects (key, size_bytes, changed_at, replicated_at) values ($1, $2, now(), now())
       on conflict (key) do update set deleted = false, size_bytes = excluded.size_bytes,
         generation = replica_objects.generation + 1, changed_at = now(), replicated_at = now()`,
      [key, sizeBytes],
    );
  }

  /** Keys owed for longer than `olderThanMs`: their job may have been lost. */
  async findOwed(olderThanMs: number, limit: number): Promise<string[]> {
    const pool = await this.pool();
    const { rows } = await pool.query<{ key: string }>(
      `select key from replica_objects
        where replicated_at is null and changed_at < now() - ($1::float8 * interval '1 millisecond')
        order by changed_at limit $2`,
      [olderThanMs, limit],
    );
    return rows.map((row) => row.key);
  }

  async lag(): Promise<ReplicaLag> {
    const pool = await this.pool();
    const { rows } = await pool.query<{ pending: string; lag: number | null }>(
      `select count(*) as pending, extract(epoch from now() - min(changed_at))::float8 as lag
         from replica_objects where replicated_at is null`,
    );
    const row = rows[0];
    return { pending_objects: Number(row?.pending ?? 0), lag_seconds: Math.max(0, row?.lag ?? 0) };
  }

  private pool(): Promise<Pool> {
    return this.orm.em.getConnection().getNativeClient();
  }
}
