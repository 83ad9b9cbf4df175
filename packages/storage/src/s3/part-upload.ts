import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { PartUpload, PutOptions, PutResult } from '../blob-store.ts';
import { abortOpenUploads } from './abort-open-uploads.ts';
import { unquoteEtag } from './etag.ts';
import { mapS3Error } from './map-s3-error.ts';
import { encryptionParams, type UploadSettings } from './upload-object.ts';

/**
 * Starts a multipart upload its caller sends part by part (see PartUpload). Every request carries
 * the upload's abort signal besides the client's request timeout: `abort` cancels the parts in
 * flight before it aborts the upload, so none lands after it. Completed or aborted, no upload stays
 * open for the key: one whose CreateMultipartUpload answer was lost (the SDK's retry made another)
 * is aborted too.
 */
export async function startPartUpload(
  client: S3Client,
  key: string,
  settings: UploadSettings,
  options: Pick<PutOptions, 'contentType' | 'metadata'>,
): Promise<PartUpload> {
  const errorContext = { ...settings.errorContext, key };
  const cancel = new AbortController();
  let uploadId: string | undefined;
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: settings.bucket,
        Key: key,
        ContentType: options.contentType,
        Metadata: options.metadata,
        ...encryptionParams(settings),
      }),
      { abortSignal: cancel.signal },
    );
    uploadId = created.UploadId;
  } catch (err) {
    throw mapS3Error(err, errorContext);
  }
  if (!uploadId) throw mapS3Error(new Error('CreateMultipartUpload answered no UploadId'), errorContext);
  const id = uploadId;
  const parts: CompletedPart[] = [];
  let size = 0;
  return {
    key,
    async sendPart(number, body) {
      try {
        const out = await client.send(
          new UploadPartCommand({
            Bucket: settings.bucket,
            Key: key,
            UploadId: id,
            PartNumber: number,
            Body: body,
            ContentLength: body.length,
          }),
          { abortSignal: cancel.signal },
        );
        parts.push({ PartNumber: number, ETag: out.ETag });
        size += body.length;
      } catch (err) {
        throw mapS3Error(err, errorContext);
      }
    },
    async complete(): Promise<PutResult> {
      try {
        const done = await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: settings.bucket,
            Key: key,
            UploadId: id,
            MultipartUpload: { Parts: parts.toSorted((a, b) => a.PartNumber! - b.PartNumber!) },
          }),
          { abortSignal: cancel.signal },
        );
        await abortOpenUploads(client, settings.bucket, key);
        return {
          key,
          etag: unquoteEtag(done.ETag),
          size,
          parts: parts.length,
          encryption: done.ServerSideEncryption ?? null,
        };
      } catch (err) {
        throw mapS3Error(err, errorContext);
      }
    },
    async abort() {
      cancel.abort(new Error(`the upload of ${key} was aborted`));
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: settings.bucket, Key: key, UploadId: id }));
        await abortOpenUploads(client, settings.bucket, key);
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchUpload') return;
        throw mapS3Error(err, errorContext);
      }
    },
  };
}
