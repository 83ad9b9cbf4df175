import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';

/** A context's data key as stored: only wrapped, never in the clear. */
export interface DataKeyRow {
  id: string;
  context_id: string;
  tenant_id: string;
  provider: string;
  master_key_id: string;
  wrapped: Buffer;
}

const COLUMNS = 'id, context_id, tenant_id, provider, master_key_id, wrapped';

/** The `data_keys` table: one wrapped data key per context (envelope encryption). */
export class DataKeyRepository {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork({ clear: true, useContext: false });
  }

  async findById(id: string): Promise<DataKeyRow | null> {
    const rows = await this.em().execute<DataKeyRow[]>(`select ${COLUMNS} from data_keys where id = ?`, [id]);
    return rows[0] ?? null;
  }

  async findByContext(contextId: string): Promise<DataKeyRow | null> {
    const rows = await this.em().execute<DataKeyRow[]>(`select ${COLUMNS} from data_keys where context_id = ?`, [
      contextId,
    ]);
    return rows[0] ?? null;
  }

  /**
   * Stores a context's data key unless it already has one (two writes racing for it), and names it
   * on the context's row when that exists; returns whichever key the context has now.
   */
  async insertOrGet(key: DataKeyRow): Promise<DataKeyRow> {
    const em = this.em();
    await em.execute(
      `insert into data_keys (${COLUMNS}, created_at) values (?, ?, ?, ?, ?, ?, now()) on conflict (context_id) do nothing`,
      [key.id, key.context_id, key.tenant_id, key.provider, key.master_key_id, key.wrapped],
    );
    const stored = await this.findByContext(key.context_id);
    if (!stored) throw new Error(`data key of context ${key.context_id} vanished while it was stored`);
    await em.execute('update contexts set data_key_id = ? where id = ? and data_key_id is null', [
      stored.id,
      stored.context_id,
    ]);
    return stored;
  }

  /** How many keys of `provider` are wrapped by another master than `masterKeyId`, and how many keys another provider wraps. */
  async countNotWrappedBy(provider: string, masterKeyId: string): Promise<{ stale: number; otherProvider: number }> {
    const rows = await this.em().execute<{ stale: string; other: string }[]>(
      `select count(*) filter (where provider = ? and master_key_id <> ?) as stale,
              count(*) filter (where provider <> ?) as other from data_keys`,
      [provider, masterKeyId, provider],
    );
    return { stale: Number(rows[0]?.stale ?? 0), otherProvider: Number(rows[0]?.other ?? 0) };
  }

  /** Up to `limit` keys of `provider` wrapped by another master than `masterKeyId`, after id `after` (keyset order). */
  async findNotWrappedBy(
    provider: string,
    masterKeyId: string,
    after: string | null,
    limit: number,
  ): Promise<DataKeyRow[]> {
    return this.em().execute<DataKeyRow[]>(
      `select ${COLUMNS} from data_keys where provider = ? and master_key_id <> ? and id > ? order by id limit ?`,
      [provider, masterKeyId, after ?? '00000000-0000-0000-0000-000000000000', limit],
    );
  }

  /** Records a key re-wrapped under another master, unless someone re-wrapped it meanwhile. */
  async rewrap(id: string, from: string, to: { master_key_id: string; wrapped: Buffer }): Promise<boolean> {
    const rows = await this.em().execute<{ id: string }[]>(
      'update data_keys set master_key_id = ?, wrapped = ?, rewrapped_at = now() where id = ? and master_key_id = ? returning id',
      [to.master_key_id, to.wrapped, id, from],
    );
    return rows.length === 1;
  }
}
