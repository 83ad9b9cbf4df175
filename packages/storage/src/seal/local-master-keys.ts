import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { UnsealError } from '../errors/unseal-error.ts';
import { contextBytes, type MasterKeys, type WrappedKey } from './master-keys.ts';

const IV = 12;
const TAG = 16;

/**
 * Master keys from settings (encryption.master_key, and encryption.previous_master_keys that still
 * open keys wrapped before a rotation). A wrapped key is iv ‖ AES-256-GCM(data key) ‖ tag, its
 * additional data the context; its master key id is `local:` + the first 16 hex digits of the
 * master key's sha256, so the right one of several is found without trying them all.
 */
export class LocalMasterKeys implements MasterKeys {
  readonly provider = 'local' as const;
  private readonly current: { id: string; key: Buffer };
  private readonly byId = new Map<string, Buffer>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== 32)
        throw new Error(`a master key must be 32 bytes (base64 of 32 random bytes); got ${key.length}`);
      this.byId.set(localKeyId(key), key);
    }
    this.current = { id: localKeyId(current), key: current };
  }

  async currentId(): Promise<string> {
    return this.current.id;
  }

  async generate(context: Record<string, string>): Promise<WrappedKey & { plaintext: Buffer }> {
    const plaintext = randomBytes(32);
    return { plaintext, ...(await this.wrap(plaintext, context)) };
  }

  async wrap(plaintext: Buffer, context: Record<string, string>): Promise<WrappedKey> {
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(contextBytes(context));
    const wrapped = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { wrapped, masterKeyId: this.current.id };
  }

  async unwrap({ wrapped, masterKeyId }: WrappedKey, context: Record<string, string>): Promise<Buffer> {
    const master = this.byId.get(masterKeyId);
    if (!master) {
      throw new UnsealError(
        `data key wrapped by master key ${masterKeyId}, which is not configured: add it to encryption.previous_master_keys`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', master, wrapped.subarray(0, IV));
    decipher.setAAD(contextBytes(context));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(IV, wrapped.length - TAG)), decipher.final()]);
    } catch {
      throw new UnsealError(
        `data key does not unwrap under master key ${masterKeyId}: tampered with or another context's`,
      );
    }
  }
}

export function localKeyId(key: Buffer): string {
  return `local:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
