import type { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { ByteRange } from '../blob-store.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';
import { parseContentRange } from './content-range.ts';
import { mapS3Error, type S3ErrorContext } from './map-s3-error.ts';
import { OrderedPartStream } from './ordered-part-stream.ts';

export interface DownloadSettings {
  bucket: string;
  partSize: number;
  concurrency: number;
  requestTimeoutMs: number;
  /** Without `key`: each call adds its own. */
  errorContext: S3ErrorContext;
}

/**
 * Streams an object, or `range` of it. The first part is fetched with a ranged GET that doubles as
 * the probe (its Content-Range tells the size, its ETag the version), so an object of one part
 * costs one request; the rest follows as parallel ranged GETs pinned to that ETag with If-Match.
 */
export async function downloadObject(
  client: S3Client,
  key: string,
  settings: DownloadSettings,
  range?: ByteRange,
): Promise<Readable> {
  const { bucket, partSize } = settings;
  const errorContext = { ...settings.errorContext, key };
  const start = range?.start ?? 0;
  const wantedEnd = range?.end ?? Number.MAX_SAFE_INTEGER;
  let first: GetObjectCommandOutput;
  try {
    first = await client.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        Range: rangeHeader(start, Math.min(wantedEnd, start + partSize - 1)),
      }),
    );
  } catch (err) {
    const mapped = mapS3Error(err, errorContext);
    // An empty object has no byte 0 to range over; read it whole.
    if (mapped.code === 'invalid_range' && range === undefined)
      return await getWhole(client, key, bucket, errorContext);
    throw mapped;
  }
  const body = first.Body as Readable;
  const served = parseContentRange(first.ContentRange);
  if (!served) {
    body.destroy();
    throw new BlobStoreError(
      'unknown',
      `S3 answered a ranged GET of "${key}" without Content-Range`,
      'use an S3-compatible server that supports ranged reads',
    );
  }
  const end = Math.min(wantedEnd, served.size - 1);
  if (served.end >= end) return body;

  const rest = splitRange({ start: served.end + 1, end }, partSize);
  const etag = first.ETag;
  const fetchRest = (index: number, signal: AbortSignal) =>
    fetchPart(client, key, rest[index - 1]!, etag, settings, signal);
  const readFirst = (signal: AbortSignal) =>
    readAll(body, signal).catch((err: unknown) => {
      throw mapS3Error(err, errorContext);
    });
  return new OrderedPartStream(
    1 + rest.length,
    (index, signal) => (index === 0 ? readFirst(signal) : fetchRest(index, signal)),
    settings.concurrency,
  );
}

async function getWhole(
  client: S3Client,
  key: string,
  bucket: string,
  errorContext: S3ErrorContext,
): Promise<Readable> {
  try {
    const whole = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return whole.Body as Readable;
  } catch (err) {
    throw mapS3Error(err, errorContext);
  }
}

async function fetchPart(
  client: S3Client,
  key: string,
  range: ByteRange,
  etag: string | undefined,
  settings: DownloadSettings,
  streamSignal: AbortSignal,
): Promise<Uint8Array> {
  // The request timeout of the HTTP handler ends when headers arrive; this bounds the body as well.
  const deadline = AbortSignal.timeout(settings.requestTimeoutMs);
  const signal = AbortSignal.any([streamSignal, deadline]);
  try {
    const part = await client.send(
      new GetObjectCommand({
        Bucket: settings.bucket,
        Key: key,
        Range: rangeHeader(range.start, range.end),
        IfMatch: etag,
      }),
      { abortSignal: signal },
    );
    const bytes = await readAll(part.Body as Readable, signal);
    if (bytes.length !== range.end - range.start + 1) {
      throw new BlobStoreError(
        'unknown',
        `S3 sent ${bytes.length} bytes for ${rangeHeader(range.start, range.end)} of "${key}"`,
        'read the object again',
      );
    }
    return bytes;
  } catch (err) {
    if (deadline.aborted && !streamSignal.aborted) {
      throw new BlobStoreError(
        'timeout',
        `a part of "${key}" did not arrive within ${settings.requestTimeoutMs} ms`,
        'check the network to S3, or raise storage.s3.request_timeout (MCP_STORAGE_S3_REQUEST_TIMEOUT)',
        { cause: err },
      );
    }
    throw mapS3Error(err, { ...settings.errorContext, key });
  }
}

async function readAll(body: Readable, signal: AbortSignal): Promise<Uint8Array> {
  return Buffer.concat((await body.toArray({ signal })) as Buffer[]);
}

/** Consecutive ranges of at most `size` bytes covering `range`. */
function splitRange(range: ByteRange, size: number): ByteRange[] {
  const parts: ByteRange[] = [];
  for (let start = range.start; start <= range.end; start += size) {
    parts.push({ start, end: Math.min(start + size - 1, range.end) });
  }
  return parts;
}

function rangeHeader(start: number, end: number): string {
  return `bytes=${start}-${end}`;
}
