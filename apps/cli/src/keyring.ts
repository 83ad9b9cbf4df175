import type { Config } from '@ctxvault/config';
import { Keyring } from '@ctxvault/core';
import { DataKeyRepository, type MikroORM } from '@ctxvault/db';
import { KmsMasterKeys, LocalMasterKeys, type MasterKeys } from '@ctxvault/storage';

/**
 * Envelope encryption's keyring from `encryption.*`, or undefined when no master key is set (nothing
 * sealed, nothing to open). With a master key but mode "none", sealed bodies still open and new
 * ones are written in the clear.
 */
export function openKeyring(config: Config, orm: MikroORM): { keyring: Keyring; close(): void } | undefined {
  const { encryption } = config;
  let master: MasterKeys & { close?(): void };
  if (encryption.provider === 'kms') {
    if (!encryption.kms.key_id) return undefined;
    master = new KmsMasterKeys({
      keyId: encryption.kms.key_id,
      region: encryption.kms.region || config.storage.s3.region,
      endpoint: encryption.kms.endpoint || undefined,
      requestTimeoutMs: config.storage.s3.request_timeout,
    });
  } else {
    if (!encryption.master_key) return undefined;
    const previous = encryption.previous_master_keys
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean)
      .map((key) => Buffer.from(key, 'base64'));
    master = new LocalMasterKeys(Buffer.from(encryption.master_key, 'base64'), previous);
  }
  const keyring = new Keyring(new DataKeyRepository(orm), master, {
    seal: encryption.mode === 'envelope',
    cacheSize: encryption.key_cache_size,
  });
  return { keyring, close: () => master.close?.() };
}
