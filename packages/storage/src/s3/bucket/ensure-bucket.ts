import { type BucketLocationConstraint, CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { BlobStoreError } from '../../errors/blob-store-error.ts';
import { mapS3Error } from '../map-s3-error.ts';
import { type BucketSettings, errorContext, errorName, type S3Sender } from './bucket-settings.ts';

export type BucketOutcome = 'created' | 'exists';

/**
 * Makes sure the bucket exists: HeadBucket first; when it is missing and `create` is set, creates
 * it in `settings.region` (S3 wants the region as LocationConstraint everywhere but us-east-1).
 * A missing bucket without `create` throws the `no_such_bucket` BlobStoreError.
 */
export async function ensureBucket(
  client: S3Sender,
  settings: BucketSettings,
  { create }: { create: boolean },
): Promise<BucketOutcome> {
  const { bucket, region } = settings;
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return 'exists';
  } catch (err) {
    const mapped = mapS3Error(err, errorContext(settings));
    if (mapped.code !== 'no_such_bucket' || !create) throw mapped;
  }
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region !== 'us-east-1' && {
          CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
        }),
      }),
    );
    return 'created';
  } catch (err) {
    const name = errorName(err);
    if (name === 'BucketAlreadyOwnedByYou') return 'exists';
    if (name === 'BucketAlreadyExists') {
      throw new BlobStoreError(
        'access_denied',
        `bucket name "${bucket}" is taken by another account`,
        'bucket names are global: choose another storage.s3.bucket (MCP_STORAGE_S3_BUCKET)',
        { cause: err },
      );
    }
    throw mapS3Error(err, errorContext(settings));
  }
}
