import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';

export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A key as it is listed: never its secret, which only its creator saw once. */
export interface ApiKeyRow {
  id: string;
  prefix: string;
  tenant_id: string;
  scopes: ApiKeyScope[];
  name: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface NewApiKey {
  id: string;
  prefix: string;
  secretSha256: string;
  tenantId: string;
  scopes: ApiKeyScope[];
  name: string | null;
  expiresAt: Date | null;
}

const COLUMNS = 'id, prefix, tenant_id, scopes, name, created_at, expires_at, last_used_at, revoked_at';

/** `last_used_at` is written at most this often per key, so busy keys do not write on every request. */
const LAST_USED_RESOLUTION = '1 minute';

/** The `api_keys` table. */
export class ApiKeyRepository {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork({ clear: true, useContext: false });
  }

  async insert(key: NewApiKey): Promise<ApiKeyRow> {
    const rows = await this.em().execute<ApiKeyRow[]>(
      `insert into api_keys (id, prefix, secret_sha256, tenant_id, scopes, name, created_at, expires_at)
       values (?, ?, ?, ?, ?::text[], ?, now(), ?) returning ${COLUMNS}`,
      [key.id, key.prefix, key.secretSha256, key.tenantId, `{${key.scopes.join(',')}}`, key.name, key.expiresAt],
    );
    return rows[0]!;
  }

  /** The key with this prefix and its secret's digest, whatever its state (the caller decides what is usable). */
  async findByPrefix(prefix: string): Promise<(ApiKeyRow & { secret_sha256: string }) | null> {
    const rows = await this.em().execute<(ApiKeyRow & { secret_sha256: string })[]>(
      `select ${COLUMNS}, secret_sha256 from api_keys where prefix = ?`,
      [prefix],
    );
    return rows[0] ?? null;
  }

  /** Keys newest first; only a tenant's when given. */
  async list(tenantId?: string): Promise<ApiKeyRow[]> {
    return tenantId === undefined
      ? this.em().execute<ApiKeyRow[]>(`select ${COLUMNS} from api_keys order by created_at desc, id`)
      : this.em().execute<ApiKeyRow[]>(
          `select ${COLUMNS} from api_keys where tenant_id = ? order by created_at desc, id`,
          [tenantId],
        );
  }

  /** Revokes by id or prefix (of the tenant, when given); null when there is no such key. */
  async revoke(idOrPrefix: string, tenantId?: string): Promise<ApiKeyRow | null> {
    const byId = /^[0-9a-f-]{36}$/i.test(idOrPrefix);
    const rows = await this.em().execute<ApiKeyRow[]>(
      `update api_keys set revoked_at = coalesce(revoked_at, now())
       where ${byId ? 'id = ?::uuid' : 'prefix = ?'} ${tenantId === undefined ? '' : 'and tenant_id = ?'}
       returning ${COLUMNS}`,
      tenantId === undefined ? [idOrPrefix] : [idOrPrefix, tenantId],
    );
    return rows[0] ?? null;
  }

  /** Records a use, at most once per LAST_USED_RESOLUTION. */
  async touch(id: string): Promise<void> {
    await this.em().execute(
      `update api_keys set last_used_at = now()
       where id = ? and (last_used_at is null or last_used_at < now() - interval '${LAST_USED_RESOLUTION}')`,
      [id],
    );
  }
}
