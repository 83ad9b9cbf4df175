import { GetBucketVersioningCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { mapS3Error } from '../map-s3-error.ts';
import { type BucketSettings, errorContext, type S3Sender } from './bucket-settings.ts';

/** Whether the bucket had versioning before: `Suspended`, or `off` when it was never enabled. */
export type VersioningOutcome = { changed: false } | { changed: true; was: 'Suspended' | 'off' };

/** Enables versioning on the bucket unless it is enabled already. */
export async function ensureVersioning(client: S3Sender, settings: BucketSettings): Promise<VersioningOutcome> {
  try {
    const { Status } = await client.send(new GetBucketVersioningCommand({ Bucket: settings.bucket }));
    if (Status === 'Enabled') return { changed: false };
    await client.send(
      new PutBucketVersioningCommand({ Bucket: settings.bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    return { changed: true, was: Status ?? 'off' };
  } catch (err) {
    throw mapS3Error(err, errorContext(settings));
  }
}
