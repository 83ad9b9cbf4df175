import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BlobStoreError } from '../../errors/blob-store-error.ts';
import { mapS3Error } from '../map-s3-error.ts';
import { encryptionParams } from '../upload-object.ts';
import { type BucketSettings, directoryOf, errorContext, type S3Sender } from './bucket-settings.ts';

export interface ProbeResult {
  key: string;
  /** The server-side encryption HeadObject reported (`AES256`, `aws:kms`), or null. */
  encryption: string | null;
  /** The KMS key HeadObject reported for `aws:kms` (S3 answers with the key's ARN). */
  kmsKeyId: string | null;
}

/**
 * Proves the bucket takes ctxvault's writes: puts a small object under `pathPrefix` with the
 * configured server-side encryption, reads it back, asks HeadObject how it was encrypted, and
 * deletes it (also when a step failed), by version, so that a versioned bucket keeps no trace of
 * it either. A failing step throws a BlobStoreError naming the step.
 */
export async function probeObject(
  client: S3Sender,
  settings: BucketSettings,
  pathPrefix: string,
): Promise<ProbeResult> {
  const Bucket = settings.bucket;
  const Key = `${directoryOf(pathPrefix)}ctxvault-probe/${randomUUID()}`;
  const body = randomBytes(64);
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const mapped = mapS3Error(err, { ...errorContext(settings), key: Key });
      throw new BlobStoreError(mapped.code, `${name} of probe object ${Key}: ${mapped.message}`, mapped.hint, {
        cause: err,
      });
    }
  };

  const { VersionId } = await step('put', () =>
    client.send(new PutObjectCommand({ Bucket, Key, Body: body, ...encryptionParams(settings) })),
  );
  // in a versioned bucket, deleting the version itself leaves neither a delete marker nor an old version
  const remove = () => client.send(new DeleteObjectCommand({ Bucket, Key, VersionId }));
  let deleted = false;
  try {
    const read = await step('get', async () => {
      const out = await client.send(new GetObjectCommand({ Bucket, Key }));
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    });
    if (!read.equals(body)) {
      throw new BlobStoreError(
        'unknown',
        `get of probe object ${Key} returned other bytes than were put`,
        'check the S3 server or a proxy in front of it',
      );
    }
    const head = await step('head', () => client.send(new HeadObjectCommand({ Bucket, Key })));
    await step('delete', remove);
    deleted = true;
    return { key: Key, encryption: head.ServerSideEncryption ?? null, kmsKeyId: head.SSEKMSKeyId ?? null };
  } finally {
    // the step's own failure is what the caller needs to see
    if (!deleted) await remove().catch(() => {});
  }
}

/**
 * Why the probe's encryption is not what the settings ask for, or null when it is. With no
 * server_side_encryption configured anything goes (the bucket's default applies).
 */
export function encryptionMismatch(
  settings: Pick<BucketSettings, 'serverSideEncryption' | 'kmsKeyId'>,
  probe: ProbeResult,
): string | null {
  const wanted = settings.serverSideEncryption;
  if (wanted === '') return null;
  if (probe.encryption !== wanted)
    return `asked for ${wanted}, the object came back with ${probe.encryption ?? 'no encryption'}`;
  const keyId = settings.kmsKeyId;
  if (wanted === 'aws:kms' && keyId && !sameKmsKey(keyId, probe.kmsKeyId)) {
    return `asked for KMS key ${keyId}, the object came back with ${probe.kmsKeyId ?? 'no key'}`;
  }
  return null;
}

/** S3 reports the key's ARN even when it was named by id; an alias cannot be compared with it. */
function sameKmsKey(configured: string, reported: string | null): boolean {
  if (configured.startsWith('alias/') || configured.includes(':alias/')) return true;
  return reported === configured || (reported?.endsWith(`:key/${configured}`) ?? false);
}
