// A fresh bucket per test file on the test S3 server (moto), and a client to look inside it.
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export function testS3Client(endpoint: string, credentials = TEST_CREDENTIALS): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface TestBucket {
  name: string;
  client: S3Client;
  /** creates the bucket (for a bucket made with `{ create: false }`) */
  create(): Promise<void>;
  keys(prefix?: string): Promise<string[]>;
  drop(): Promise<void>;
}

/** A fresh bucket; with `{ create: false }` only its name, so that uploads fail until `create()`. */
export async function createTestBucket(
  endpoint: string,
  { create = true, credentials = TEST_CREDENTIALS } = {},
): Promise<TestBucket> {
  const client = testS3Client(endpoint, credentials);
  const name = `ctxvault-test-${randomBytes(5).toString('hex')}`;
  let created = false;
  const createBucket = async () => {
    await client.send(new CreateBucketCommand({ Bucket: name }));
    created = true;
  };
  if (create) await createBucket();
  const keys = async (prefix?: string) => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: name, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    return out;
  };
  return {
    name,
    client,
    keys,
    create: createBucket,
    drop: async () => {
      if (!created) return client.destroy();
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: name }));
      for (const u of uploads.Uploads ?? []) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: name, Key: u.Key, UploadId: u.UploadId }));
      }
      const all = await keys();
      for (let i = 0; i < all.length; i += 1000) {
        await client.send(
          new DeleteObjectsCommand({
            Bucket: name,
            Delete: { Objects: all.slice(i, i + 1000).map((Key) => ({ Key })) },
          }),
        );
      }
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      client.destroy();
    },
  };
}

/** Starts a multipart upload of `key` and leaves it incomplete, as a writer killed mid-upload does. */
export async function openMultipartUpload(bucket: TestBucket, key: string): Promise<void> {
  await bucket.client.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: key }));
}
