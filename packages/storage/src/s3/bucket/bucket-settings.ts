import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ErrorContext } from '../map-s3-error.ts';
import type { S3BlobStoreOptions } from '../s3-options.ts';

/** What the bucket administration calls need to know of the S3 settings. */
export type BucketSettings = Pick<
  S3BlobStoreOptions,
  'bucket' | 'region' | 'endpoint' | 'serverSideEncryption' | 'kmsKeyId'
>;

/** The part of an S3Client these calls use, so that unit tests can hand in a fake. */
export type S3Sender = Pick<S3Client, 'send'>;

export function errorContext({ bucket, region, endpoint }: BucketSettings): S3ErrorContext {
  return { bucket, region, endpoint };
}

/** The error's name as the SDK sets it (`NoSuchLifecycleConfiguration`, `BucketAlreadyOwnedByYou`). */
export function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err && typeof err.name === 'string' ? err.name : '';
}

/** `<prefix>/` for keys below a path prefix, or '' (the whole bucket) for an empty one. */
export function directoryOf(pathPrefix: string): string {
  const base = pathPrefix.replace(/\/$/, '');
  return base === '' ? '' : `${base}/`;
}
