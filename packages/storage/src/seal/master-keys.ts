/**
 * Wraps and unwraps the data keys of envelope encryption. `context` binds a wrapped key to what it
 * protects (the context id): unwrapping it under another context fails (KMS encryption context, or
 * the local wrap's additional data).
 */
export interface MasterKeys {
  readonly provider: 'local' | 'kms';
  /** the id recorded beside keys this wraps now (a local key's fingerprint, a KMS key ARN) */
  currentId(): Promise<string>;
  /** a fresh 256-bit data key, in the clear and wrapped */
  generate(context: Record<string, string>): Promise<WrappedKey & { plaintext: Buffer }>;
  /** the data key in the clear; throws UnsealError when no configured master key opens it */
  unwrap(key: WrappedKey, context: Record<string, string>): Promise<Buffer>;
  /** the data key wrapped under the current master key */
  wrap(plaintext: Buffer, context: Record<string, string>): Promise<WrappedKey>;
}

export interface WrappedKey {
  wrapped: Buffer;
  masterKeyId: string;
}

/** The fixed order of a context's entries, for additional data that does not depend on key order. */
export function contextBytes(context: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
