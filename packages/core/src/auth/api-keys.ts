import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type ApiKeyRepository, type ApiKeyRow, type ApiKeyScope, newContextId } from '@ctxvault/db';
import { UnauthorizedError } from '../errors/index.ts';
import type { Logger } from '../ports.ts';
import type { Principal } from './principal.ts';

/** `cvk_<prefix>_<secret>`: the prefix names the key in listings and logs; only the secret's digest is stored. */
const KEY_FORMAT = /^cvk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export type ApiKeyStore = Pick<ApiKeyRepository, 'insert' | 'findByPrefix' | 'list' | 'revoke' | 'touch'>;

export interface NewKeyRequest {
  tenantId: string;
  scopes: ApiKeyScope[];
  name?: string | null;
  expiresAt?: Date | null;
}

/** A key as listed and as created (then with `key`, the secret, shown this once). */
export interface ApiKeyView {
  id: string;
  prefix: string;
  tenant_id: string;
  scopes: ApiKeyScope[];
  name: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** How often this process records a key's use (the table keeps the same resolution). */
const TOUCH_EVERY_MS = 60_000;

type KeyRow = ApiKeyRow & { secret_sha256: string };

/** A key this process verified: its row as then, its secret's digest as bytes, and when it was read. */
interface VerifiedKey {
  row: KeyRow;
  digest: Buffer;
  at: number;
}

/** At most this many verified keys are kept per process (the cache starts over beyond). */
const MAX_CACHED_KEYS = 10_000;

export interface ApiKeysOptions {
  /**
   * How long a verified key is trusted without reading its row again (auth.key_cache_ttl); 0: never.
   * A key revoked by this process is refused at once; revoked by another, within this time.
   */
  cacheTtlMs?: number;
  /** the clock, for tests */
  now?: () => number;
}

/** Creating, listing, revoking and checking API keys. */
export class ApiKeys {
  /** when this process last recorded each key's use, so a busy key is not written on every request */
  private readonly touched = new Map<string, number>();
  /** keys verified lately, by prefix: a request with one costs no database round trip */
  private readonly verified = new Map<string, VerifiedKey>();
  /**
   * reads of a key's row under way, by prefix: requests arriving meanwhile (all of a busy key's, when
   * its cache entry expires) wait for the same read instead of each making its own
   */
  private readonly reading = new Map<string, Promise<KeyRow | null>>();
  private readonly cacheTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: ApiKeyStore,
    private readonly logger: Logger,
    options: ApiKeysOptions = {},
  ) {
    this.cacheTtlMs = options.cacheTtlMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  async create(request: NewKeyRequest): Promise<ApiKeyView & { key: string }> {
    const prefix = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12);
    const secret = randomBytes(32).toString('base64url');
    const key = `cvk_${prefix}_${secret}`;
    const row = await this.store.insert({
      id: newContextId(),
      prefix,
      secretSha256: digest(secret).toString('hex'),
      tenantId: request.tenantId,
      scopes: [...new Set(request.scopes)],
      name: request.name ?? null,
      expiresAt: request.expiresAt ?? null,
    });
    return { ...toView(row), key };
  }

  async list(tenantId?: string): Promise<ApiKeyView[]> {
    return (await this.store.list(tenantId)).map(toView);
  }

  async revoke(idOrPrefix: string, tenantId?: string): Promise<ApiKeyView | null> {
    const row = await this.store.revoke(idOrPrefix, tenantId);
    if (row) {
      this.verified.delete(row.prefix);
      // a read begun before the revocation must not put the key back into the cache
      this.reading.delete(row.prefix);
    }
    return row ? toView(row) : null;
  }

  private recordUse(id: string): void {
    const now = Date.now();
    if (now - (this.touched.get(id) ?? 0) < TOUCH_EVERY_MS) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(id, now);
    this.store.touch(id).catch((err: unknown) => this.logger.warn({ err }, 'could not record API key use'));
  }

  /** The row of a key verified less than the cache's TTL ago, if `presented` is its secret's digest. */
  private cached(prefix: string, presented: Buffer): KeyRow | null {
    const hit = this.verified.get(prefix);
    if (!hit) return null;
    if (this.now() - hit.at >= this.cacheTtlMs) {
      this.verified.delete(prefix);
      return null;
    }
    return timingSafeEqual(presented, hit.digest) ? hit.row : null;
  }

  /** The key's row from the store (one read at a time per prefix), kept in the cache when the TTL allows. */
  private read(prefix: string): Promise<KeyRow | null> {
    const pending = this.reading.get(prefix);
    if (pending) return pending;
    const read = this.store.findByPrefix(prefix).then(
      (row) => {
        // still the current read: not superseded by a revocation in this process meanwhile
        if (this.reading.get(prefix) === read) {
          this.reading.delete(prefix);
          if (row && this.cacheTtlMs > 0) this.remember(row);
        }
        return row;
      },
      (err: unknown) => {
        if (this.reading.get(prefix) === read) this.reading.delete(prefix);
        throw err;
      },
    );
    this.reading.set(prefix, read);
    return read;
  }

  private remember(row: KeyRow): void {
    if (this.verified.size >= MAX_CACHED_KEYS) this.verified.clear();
    this.verified.set(row.prefix, { row, digest: Buffer.from(row.secret_sha256, 'hex'), at: this.now() });
  }

  /** Whether a bearer token has the shape of one of our keys (else it may be a JWT). */
  static looksLikeKey(token: string): boolean {
    return token.startsWith('cvk_');
  }

  /** The principal of a presented key; 401 when it is malformed, unknown, revoked or expired. */
  async verify(token: string): Promise<Principal> {
    const match = KEY_FORMAT.exec(token);
    if (!match) throw new UnauthorizedError('malformed API key');
    const [, prefix, secret] = match as unknown as [string, string, string];
    const presented = digest(secret);
    const row = this.cached(prefix, presented) ?? ifSecretMatches(await this.read(prefix), presented);
    if (!row) throw new UnauthorizedError('unknown API key');
    if (row.revoked_at) throw new UnauthorizedError(`API key ${prefix} was revoked`);
    // the driver may hand timestamps over as text
    const expiresAt = row.expires_at === null ? null : new Date(row.expires_at);
    if (expiresAt && expiresAt.getTime() <= this.now())
      throw new UnauthorizedError(`API key ${prefix} expired at ${expiresAt.toISOString()}`);
    this.recordUse(row.id);
    return { tenantId: row.tenant_id, scopes: row.scopes, via: { kind: 'api_key', prefix } };
  }
}

/** `row` if `presented` is its secret's digest, compared as digests of equal length so that timing tells nothing. */
function ifSecretMatches(row: KeyRow | null, presented: Buffer): KeyRow | null {
  const expected = Buffer.from(row?.secret_sha256 ?? '0'.repeat(64), 'hex');
  return timingSafeEqual(presented, expected) ? row : null;
}

function digest(secret: string): Buffer {
  // the one-shot form: no Hash object per request
  return hash('sha256', secret, 'buffer');
}

function toView(row: ApiKeyRow): ApiKeyView {
  const iso = (date: Date | null) => (date ? new Date(date).toISOString() : null);
  return {
    id: row.id,
    prefix: row.prefix,
    tenant_id: row.tenant_id,
    scopes: row.scopes,
    name: row.name,
    created_at: new Date(row.created_at).toISOString(),
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
  };
}
