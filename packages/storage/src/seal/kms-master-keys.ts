import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  KMSServiceException,
} from '@aws-sdk/client-kms';
import { KeyServiceError } from '../errors/key-service-error.ts';
import { UnsealError } from '../errors/unseal-error.ts';
import type { MasterKeys, WrappedKey } from './master-keys.ts';

export interface KmsMasterKeysOptions {
  /** the key new data keys are generated and re-wrapped under: id, ARN or alias (encryption.kms.key_id) */
  keyId: string;
  region: string;
  /** an AWS-compatible endpoint (LocalStack, moto); empty: AWS */
  endpoint?: string;
  requestTimeoutMs?: number;
}

/** KMS errors that say the wrapped key itself is wrong (not that KMS is unreachable or refusing). */
const BAD_CIPHERTEXT = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/**
 * Master keys in AWS KMS: data keys come from GenerateDataKey (AES_256) and are unwrapped with
 * Decrypt, the context id as the encryption context. KMS names the key inside the ciphertext, so
 * keys wrapped under an earlier key still open (as long as it is enabled and usable); a rotation
 * re-wraps them under the current key with Decrypt and Encrypt. Credentials come from the AWS SDK's
 * default chain.
 */
export class KmsMasterKeys implements MasterKeys {
  readonly provider = 'kms' as const;
  private readonly client: KMSClient;
  private arn?: Promise<string>;

  constructor(private readonly options: KmsMasterKeysOptions) {
    this.client = new KMSClient({
      region: options.region,
      endpoint: options.endpoint || undefined,
      requestHandler: options.requestTimeoutMs
        ? { requestTimeout: options.requestTimeoutMs, connectionTimeout: options.requestTimeoutMs }
        : undefined,
    });
  }

  /** The ARN of the configured key (an alias resolved), as KMS records it beside what it wraps. */
  currentId(): Promise<string> {
    this.arn ??= this.call('DescribeKey', async () => {
      const { KeyMetadata } = await this.client.send(new DescribeKeyCommand({ KeyId: this.options.keyId }));
      if (!KeyMetadata?.Arn) throw new Error(`KMS key ${this.options.keyId} has no ARN`);
      return KeyMetadata.Arn;
    }).catch((err: unknown) => {
      this.arn = undefined;
      throw err;
    });
    return this.arn;
  }

  async generate(context: Record<string, string>): Promise<WrappedKey & { plaintext: Buffer }> {
    const out = await this.call('GenerateDataKey', () =>
      this.client.send(
        new GenerateDataKeyCommand({ KeyId: this.options.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
      ),
    );
    if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId) throw new Error('KMS GenerateDataKey answered no key');
    return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob), masterKeyId: out.KeyId };
  }

  async unwrap({ wrapped, masterKeyId }: WrappedKey, context: Record<string, string>): Promise<Buffer> {
    const out = await this.call('Decrypt', () =>
      this.client.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: context, KeyId: masterKeyId })),
    );
    if (!out.Plaintext) throw new Error('KMS Decrypt answered no plaintext');
    return Buffer.from(out.Plaintext);
  }

  async wrap(plaintext: Buffer, context: Record<string, string>): Promise<WrappedKey> {
    const out = await this.call('Encrypt', () =>
      this.client.send(
        new EncryptCommand({ KeyId: this.options.keyId, Plaintext: plaintext, EncryptionContext: context }),
      ),
    );
    if (!out.CiphertextBlob || !out.KeyId) throw new Error('KMS Encrypt answered no ciphertext');
    return { wrapped: Buffer.from(out.CiphertextBlob), masterKeyId: out.KeyId };
  }

  close(): void {
    this.client.destroy();
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (err instanceof KMSServiceException && BAD_CIPHERTEXT.has(err.name)) {
        throw new UnsealError(`KMS ${operation} refused the wrapped data key: ${err.name}: ${err.message}`);
      }
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new KeyServiceError(`KMS ${operation} failed (key ${this.options.keyId}): ${reason}`, { cause: err });
    }
  }
}
