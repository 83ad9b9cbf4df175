import type { Readable } from 'node:stream';
import {
  type _Object,
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import type {
  BlobStore,
  ByteRange,
  IncompleteUpload,
  ObjectInfo,
  PartUpload,
  PartUploads,
  PutOptions,
  PutResult,
} from '../blob-store.ts';
import type { BlobStoreError } from '../errors/blob-store-error.ts';
import { assertValidKey, assertValidPrefix, assertValidRange } from '../key-rules.ts';
import { createS3Client } from './create-s3-client.ts';
import { downloadObject } from './download-object.ts';
import { unquoteEtag } from './etag.ts';
import { mapS3Error, type S3ErrorContext } from './map-s3-error.ts';
import { startPartUpload } from './part-upload.ts';
import { assertValidS3Options, type S3BlobStoreOptions } from './s3-options.ts';
import { uploadObject } from './upload-object.ts';

/** Objects in one S3 (or S3-compatible) bucket. */
export class S3BlobStore implements BlobStore, PartUploads {
  readonly kind = 's3';
  readonly #options: S3BlobStoreOptions;
  readonly #client: S3Client;
  readonly #errorContext: S3ErrorContext;
  #closed = false;

  constructor(options: S3BlobStoreOptions) {
    assertValidS3Options(options);
    this.#options = options;
    this.#client = createS3Client(options);
    this.#errorContext = { bucket: options.bucket, region: options.region, endpoint: options.endpoint };
  }

  get multipartFrom(): number {
    return this.#options.uploadPartSize;
  }

  get partsInFlight(): number {
    return this.#options.concurrency;
  }

  async startUpload(key: string, options: Pick<PutOptions, 'contentType' | 'metadata'>): Promise<PartUpload> {
    assertValidKey(key);
    return startPartUpload(this.#client, key, { ...this.#options, errorContext: this.#errorContext }, options);
  }

  async put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult> {
    assertValidKey(key);
    return uploadObject(this.#client, key, body, { ...this.#options, errorContext: this.#errorContext }, options);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    if (range) assertValidRange(range);
    const { bucket, downloadPartSize, concurrency, requestTimeoutMs, maxAttempts } = this.#options;
    const settings = {
      bucket,
      partSize: downloadPartSize,
      concurrency,
      requestTimeoutMs,
      maxAttempts,
      errorContext: this.#errorContext,
    };
    return downloadObject(this.#client, key, settings, range);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#options.bucket, Key: key }));
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: unquoteEtag(out.ETag),
        metadata: out.Metadata ?? {},
        encryption: out.ServerSideEncryption ?? null,
        lastModified: out.LastModified,
      };
    } catch (err) {
      // HEAD answers have no body, so a missing bucket also reads as a missing object here.
      const mapped = this.#fail(err, key);
      if (mapped.code === 'not_found') return null;
      throw mapped;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#options.bucket, Key: key }));
    } catch (err) {
      throw this.#fail(err, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const page of this.#listPages(prefix)) {
      for (const object of page) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key,
          size: object.Size ?? 0,
          etag: unquoteEtag(object.ETag),
          metadata: {},
          encryption: null,
          lastModified: object.LastModified,
        };
      }
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    let removed = 0;
    // Deleting a listed page does not disturb the continuation token, which names the last key seen.
    for await (const page of this.#listPages(prefix)) {
      const keys = page.flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
      if (keys.length === 0) continue;
      let out: DeleteObjectsCommandOutput;
      try {
        out = await this.#client.send(
          new DeleteObjectsCommand({ Bucket: this.#options.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
      } catch (err) {
        throw this.#fail(err);
      }
      const [failure] = out.Errors ?? [];
      if (failure) throw this.#fail({ name: failure.Code, message: failure.Message }, failure.Key);
      removed += keys.length;
    }
    return removed;
  }

  async check(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#options.bucket }));
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /** Multipart uploads under `prefix` that were never completed nor aborted (their parts cost storage). */
  async *listIncompleteUploads(prefix: string): AsyncIterable<IncompleteUpload> {
    assertValidPrefix(prefix);
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#options.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
      } catch (err) {
        throw this.#fail(err);
      }
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== undefined && upload.UploadId !== undefined) {
          yield { key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated };
        }
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** Aborts one incomplete multipart upload, freeing its parts; one already gone is fine. */
  async abortIncompleteUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({ Bucket: this.#options.bucket, Key: key, UploadId: uploadId }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchUpload') return;
      throw this.#fail(err, key);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
  }

  async *#listPages(prefix: string): AsyncGenerator<_Object[]> {
    assertValidPrefix(prefix);
    try {
      for await (const page of paginateListObjectsV2(
        { client: this.#client },
        { Bucket: this.#options.bucket, Prefix: prefix },
      )) {
        yield page.Contents ?? [];
      }
    } catch (err) {
      throw this.#fail(err);
    }
  }

  #fail(err: unknown, key?: string): BlobStoreError {
    return mapS3Error(err, key === undefined ? this.#errorContext : { ...this.#errorContext, key });
  }
}
