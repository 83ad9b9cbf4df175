import type { Readable } from 'node:stream';

export interface PutOptions {
  /** When given, a body of any other length fails with `length_mismatch` and nothing is stored. */
  contentLength?: number;
  contentType?: string;
  /** Stored beside the object (S3 user metadata); keys lower-case ASCII. */
  metadata?: Record<string, string>;
  /** Called with the bytes uploaded so far. */
  onProgress?: (uploadedBytes: number) => void;
  /** Aborts the upload while the body is being read; nothing is stored. */
  signal?: AbortSignal;
}

export interface PutResult {
  key: string;
  /** Without quotes; for S3 multipart uploads `<md5 of part md5s>-<parts>`. */
  etag: string;
  size: number;
  /** 1 for a single PUT. */
  parts: number;
  /** Server-side encryption as the store reported it (`AES256`, `aws:kms`), or null. */
  encryption: string | null;
}

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  metadata: Record<string, string>;
  encryption: string | null;
  lastModified?: Date;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where object bodies live. Keys are relative "/"-separated paths (see `assertValidKey`); every
 * failure of the store is a `BlobStoreError` with a code and a hint.
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** A failure of the body stream itself rejects with that stream's own error, and nothing is stored. */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult>;
  /**
   * Streams the whole object, or [start, end] inclusive (an end past the object is clamped; a start
   * past it is `invalid_range`). Throws BlobNotFoundError if absent.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  head(key: string): Promise<ObjectInfo | null>;
  /** An absent key is fine. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order (so the versions of one context arrive together); metadata may be {} in listings. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes every object whose key starts with `prefix`; returns how many were removed. */
  deletePrefix(prefix: string): Promise<number>;
  /** Proves the store is reachable and usable (bucket exists / directory writable); throws a BlobStoreError with a hint. */
  check(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** A multipart upload that was started and neither completed nor aborted. */
export interface IncompleteUpload {
  key: string;
  uploadId: string;
  initiated?: Date;
}

/** Stores that can leave incomplete multipart uploads behind (S3) let the lifecycle job find them. */
export interface IncompleteUploadTracking {
  /** a body of at least this many bytes goes as a multipart upload; a smaller one as one PUT, which leaves nothing incomplete */
  readonly multipartFrom: number;
  listIncompleteUploads(prefix: string): AsyncIterable<IncompleteUpload>;
  abortIncompleteUpload(key: string, uploadId: string): Promise<void>;
}

/**
 * A multipart upload its caller sends part by part, as the parts are made (S3): every part of
 * `multipartFrom` bytes but the last. Nothing is stored until `complete`.
 */
export interface PartUpload {
  readonly key: string;
  /** Sends part `number` (from 1); its ETag is kept for `complete`. */
  sendPart(number: number, body: Buffer): Promise<void>;
  /** Makes the object of the parts sent; returns what a put returns. */
  complete(): Promise<PutResult>;
  /** Cancels the parts in flight and aborts the upload (its parts freed); safe after a failure. */
  abort(): Promise<void>;
}

/** Stores whose caller can send an object part by part, holding no more than the parts in flight. */
export interface PartUploads extends IncompleteUploadTracking {
  /** parts one upload keeps in flight at once */
  readonly partsInFlight: number;
  /** Starts a multipart upload of `key`; its metadata and content type are fixed from here on. */
  startUpload(key: string, options: Pick<PutOptions, 'contentType' | 'metadata'>): Promise<PartUpload>;
}

export function uploadsInParts(store: BlobStore): store is BlobStore & PartUploads {
  return typeof (store as Partial<PartUploads>).startUpload === 'function';
}

export function tracksIncompleteUploads(store: BlobStore): store is BlobStore & IncompleteUploadTracking {
  return typeof (store as Partial<IncompleteUploadTracking>).listIncompleteUploads === 'function';
}
