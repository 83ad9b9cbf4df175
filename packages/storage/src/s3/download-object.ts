import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { ByteRange } from '../blob-store.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';
import { parseContentRange } from './content-range.ts';
import { mapS3Error, type S3ErrorContext } from './map-s3-error.ts';
import { OrderedPartStream } from './ordered-part-stream.ts';
import { isRetryable, retryDelay } from './read-retries.ts';

export interface DownloadSettings {
  bucket: string;
  partSize: number;
  concurrency: number;
  /** Until an answer's headers arrive, and at most this long without a byte of its body. */
  requestTimeoutMs: number;
  /** Requests per byte range: an answer cut off (reset, stalled, 503) is resumed where it stopped. */
  maxAttempts: number;
  /** Without `key`: each call adds its own. */
  errorContext: S3ErrorContext;
}

/**
 * Streams an object, or `range` of it. The first part is fetched with a ranged GET that doubles as
 * the probe (its Content-Range tells the size, its ETag the version), so an object of one part
 * costs one request; the rest follows as parallel ranged GETs pinned to that ETag with If-Match.
 * An answer that breaks off is resumed from the byte where it stopped, up to `maxAttempts`
 * requests per range; past that the stream fails, so a reader never takes a cut body for a whole.
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
  const etag = first.ETag;
  const end = Math.min(wantedEnd, served.size - 1);
  const firstRange = { start: served.start, end: served.end };
  if (served.end >= end) {
    // one part: streamed as it arrives, resumed if it breaks off
    const stop = new AbortController();
    const stream = Readable.from(readRange(client, key, firstRange, etag, settings, stop.signal, body), {
      objectMode: false,
    });
    stream.once('close', () => stop.abort());
    return stream;
  }

  const rest = splitRange({ start: served.end + 1, end }, partSize);
  return new OrderedPartStream(
    1 + rest.length,
    (index, signal) =>
      index === 0
        ? readRange(client, key, firstRange, etag, settings, signal, body)
        : readRange(client, key, rest[index - 1]!, etag, settings, signal),
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

/**
 * The bytes of `range`, in order. `opened` is an answer already under way for it. When an answer
 * fails or ends early, the rest of the range is asked for again (pinned to `etag`), up to
 * `settings.maxAttempts` requests in all, with a growing pause between them.
 */
async function* readRange(
  client: S3Client,
  key: string,
  range: ByteRange,
  etag: string | undefined,
  settings: DownloadSettings,
  signal: AbortSignal,
  opened?: Readable,
): AsyncGenerator<Buffer> {
  const errorContext = { ...settings.errorContext, key };
  let position = range.start;
  let body = opened;
  // a reader that went away must not wait for S3's next chunk to notice
  const release = () => body?.destroy();
  signal.addEventListener('abort', release);
  try {
    for (let attempt = 1; ; attempt++) {
      const stalled = new AbortController();
      try {
        body ??= await openRange(client, key, { start: position, end: range.end }, etag, settings, [
          signal,
          stalled.signal,
        ]);
        for await (const chunk of withStallTimeout(body, settings.requestTimeoutMs, stalled)) {
          position += chunk.length;
          yield chunk;
        }
        if (position > range.end) return;
        throw new BlobStoreError(
          'connection_reset',
          `S3 ended the answer for ${rangeHeader(range.start, range.end)} of "${key}" at byte ${position}`,
          'read the object again',
        );
      } catch (err) {
        if (signal.aborted) throw mapS3Error(signal.reason ?? err, errorContext);
        const mapped = stalled.signal.aborted
          ? stallError(key, settings.requestTimeoutMs, err)
          : mapS3Error(err, errorContext);
        if (!isRetryable(mapped) || attempt >= settings.maxAttempts) throw mapped;
        body?.destroy();
        body = undefined;
        await sleep(retryDelay(attempt), undefined, { signal }).catch(() => {});
        if (signal.aborted) throw mapS3Error(signal.reason, errorContext);
      }
    }
  } finally {
    signal.removeEventListener('abort', release);
    // the consumer stopped early, or the range failed: free the connection
    body?.destroy();
  }
}

async function openRange(
  client: S3Client,
  key: string,
  range: ByteRange,
  etag: string | undefined,
  settings: DownloadSettings,
  signals: AbortSignal[],
): Promise<Readable> {
  const part = await client.send(
    new GetObjectCommand({
      Bucket: settings.bucket,
      Key: key,
      Range: rangeHeader(range.start, range.end),
      IfMatch: etag,
    }),
    { abortSignal: AbortSignal.any(signals) },
  );
  return part.Body as Readable;
}

/**
 * The chunks of `body`; if none arrives for `ms` while one is awaited, `stalled` is aborted and the
 * body destroyed. Time the consumer spends on a chunk does not count.
 */
async function* withStallTimeout(body: Readable, ms: number, stalled: AbortController): AsyncGenerator<Buffer> {
  const chunks = body[Symbol.asyncIterator]();
  for (;;) {
    const timer = setTimeout(() => {
      stalled.abort();
      body.destroy(new Error(`no data for ${ms} ms`));
    }, ms);
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } finally {
      clearTimeout(timer);
    }
    if (next.done) return;
    yield next.value;
  }
}

function stallError(key: string, ms: number, cause: unknown): BlobStoreError {
  return new BlobStoreError(
    'timeout',
    `S3 sent nothing of "${key}" for ${ms} ms`,
    'check the network to the S3 server at storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT), or raise storage.s3.request_timeout (MCP_STORAGE_S3_REQUEST_TIMEOUT)',
    { cause },
  );
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
