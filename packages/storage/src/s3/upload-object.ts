import { addAbortSignal, pipeline, type Readable } from 'node:stream';
import type { S3Client, ServerSideEncryption } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { PutOptions, PutResult } from '../blob-store.ts';
import { BodyMeter } from '../body-meter.ts';
import { bodySource } from '../body-source.ts';
import { abortOpenUploads } from './abort-open-uploads.ts';
import { unquoteEtag } from './etag.ts';
import { mapS3Error, type S3ErrorContext } from './map-s3-error.ts';
import type { S3BlobStoreOptions } from './s3-options.ts';

export type UploadSettings = Pick<
  S3BlobStoreOptions,
  'bucket' | 'uploadPartSize' | 'concurrency' | 'serverSideEncryption' | 'kmsKeyId'
> & {
  /** Without `key`: each call adds its own. */
  errorContext: S3ErrorContext;
};

/**
 * Uploads a body of any length with bounded memory: lib-storage sends one PUT when the body fits
 * in a part, else a multipart upload with `concurrency` parts in flight, aborted if anything fails.
 * After a multipart upload, completed or failed, no upload stays open for the key.
 */
export async function uploadObject(
  client: S3Client,
  key: string,
  body: Readable | Buffer,
  settings: UploadSettings,
  options: PutOptions = {},
): Promise<PutResult> {
  const source = bodySource(body);
  const meter = new BodyMeter({ expectedLength: options.contentLength });
  // pipeline() destroys the meter with any error of the body, and lib-storage reads the meter, so
  // a failing body (or abort, or wrong length) fails the upload; the callback has nothing to add.
  pipeline(source.stream, meter, () => {});
  if (options.signal) addAbortSignal(options.signal, meter);

  const upload = new Upload({
    client,
    partSize: settings.uploadPartSize,
    queueSize: settings.concurrency,
    leavePartsOnError: false,
    params: {
      Bucket: settings.bucket,
      Key: key,
      Body: meter,
      ContentType: options.contentType,
      Metadata: options.metadata,
      ...encryptionParams(settings),
    },
  });
  const { onProgress } = options;
  if (onProgress) {
    upload.on('httpUploadProgress', ({ loaded }) => {
      if (loaded !== undefined) onProgress(loaded);
    });
  }
  // a body of a part or more went as a multipart upload, which may have left strays behind
  const multipart = () => meter.bytes >= settings.uploadPartSize;
  const errorContext = { ...settings.errorContext, key };
  let done: Awaited<ReturnType<Upload['done']>>;
  try {
    done = await upload.done();
  } catch (err) {
    // best effort: the failure itself is what the caller must hear; a retry cleans up before it starts
    if (multipart()) await abortOpenUploads(client, settings.bucket, key).catch(() => {});
    if (source.failedWith(err) && !options.signal?.aborted) throw err;
    throw mapS3Error(err, errorContext);
  }
  if (multipart()) {
    try {
      await abortOpenUploads(client, settings.bucket, key);
    } catch (err) {
      throw mapS3Error(err, errorContext);
    }
  }
  return {
    key,
    etag: unquoteEtag(done.ETag),
    size: meter.bytes,
    parts: partCount(meter.bytes, settings.uploadPartSize),
    encryption: done.ServerSideEncryption ?? null,
  };
}

/** The SSE parameters of a PutObject or CreateMultipartUpload for the configured encryption. */
export function encryptionParams({
  serverSideEncryption,
  kmsKeyId,
}: Pick<S3BlobStoreOptions, 'serverSideEncryption' | 'kmsKeyId'>): {
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
} {
  if (serverSideEncryption === '') return {};
  if (serverSideEncryption === 'aws:kms' && kmsKeyId)
    return { ServerSideEncryption: serverSideEncryption, SSEKMSKeyId: kmsKeyId };
  return { ServerSideEncryption: serverSideEncryption };
}

/** lib-storage sends a body of at most one part with a single PUT. */
function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}
