import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

export interface PartSettings {
  bucket: string;
  partSize: number;
  /** parts in flight at once */
  concurrency: number;
  /** what CreateMultipartUpload or PutObject carries besides the body (type, metadata, encryption) */
  objectParams: {
    ContentType?: string;
    Metadata?: Record<string, string>;
    ServerSideEncryption?: CreateMultipartUploadCommand['input']['ServerSideEncryption'];
    SSEKMSKeyId?: string;
  };
  onProgress?: (uploadedBytes: number) => void;
}

export interface SentObject {
  etag: string | undefined;
  encryption: string | undefined;
  parts: number;
}

/**
 * Sends a body as one PutObject when it fits in a part (exactly one part included), else as a
 * multipart upload with up to `concurrency` parts in flight (the caller aborts it if this fails).
 * The body is read into part-sized buffers only as fast as parts leave, and a buffer is filled
 * again once its part is sent: at most `concurrency + 1` of them whatever the body's length, where
 * lib-storage's Upload concatenated each part into a fresh buffer, garbage that V8 collects only
 * once tens of megabytes of it have piled up outside the heap.
 */
export async function sendInParts(
  client: S3Client,
  key: string,
  body: AsyncIterable<Buffer>,
  settings: PartSettings,
): Promise<SentObject> {
  const { bucket, partSize, concurrency, objectParams, onProgress } = settings;
  const free: Buffer[] = [];
  const parts = partsOf(body, partSize, free);
  try {
    const first = await parts.next();
    // (partsOf yields at least one part, the last one: an empty body is an empty part)
    if (first.done || first.value.last) {
      const data = first.value?.data ?? Buffer.alloc(0);
      const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ...objectParams }));
      onProgress?.(data.length);
      return { etag: out.ETag, encryption: out.ServerSideEncryption, parts: 1 };
    }
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...objectParams }));
    const uploadId = created.UploadId!;
    const sent: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    const failures: unknown[] = [];
    let uploaded = 0;
    const send = (data: Buffer, partNumber: number) => {
      const request = client
        .send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: data }),
        )
        .then(
          (out) => {
            sent.push({ PartNumber: partNumber, ETag: out.ETag });
            uploaded += data.length;
            onProgress?.(uploaded);
          },
          (err: unknown) => {
            failures.push(err);
          },
        )
        .finally(() => {
          inFlight.delete(request);
          // only full parts are filled again (the last one is shorter, and last)
          if (data.length === partSize) free.push(data);
        });
      inFlight.add(request);
    };
    try {
      let partNumber = 1;
      for (let next: IteratorResult<Part> = first; !next.done; next = await parts.next()) {
        send(next.value.data, partNumber++);
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
        if (failures.length) throw failures[0];
      }
    } finally {
      // however the body ends, no part lands after the caller aborts the upload
      await Promise.all(inFlight);
    }
    if (failures.length) throw failures[0];
    const out = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: sent.sort((a, b) => a.PartNumber! - b.PartNumber!) },
      }),
    );
    return { etag: out.ETag, encryption: out.ServerSideEncryption, parts: sent.length };
  } finally {
    // a failed part leaves the body half read: ending the iteration destroys it
    await parts.return(undefined);
  }
}

interface Part {
  data: Buffer;
  /** whether the body ends with it */
  last: boolean;
}

/**
 * The body in parts of `partSize` (the last one shorter), each copied into a buffer from `free` or a
 * new one. A full part is handed on once the body's next bytes arrive (or it ends), so it is known
 * whether it is the last; the body's first bytes stay as they came until they make more than a
 * part, so a body of one part (most of them) is sent from them, with no part-sized buffer.
 */
async function* partsOf(body: AsyncIterable<Buffer>, partSize: number, free: Buffer[]): AsyncGenerator<Part> {
  const head: Buffer[] = [];
  let part: Buffer | null = null;
  let filled = 0;
  for await (const piece of body) {
    if (!part) {
      if (filled + piece.length <= partSize) {
        head.push(piece);
        filled += piece.length;
        continue;
      }
      part = Buffer.allocUnsafeSlow(partSize);
      let at = 0;
      for (const kept of head.splice(0)) at += kept.copy(part, at);
    }
    let offset = 0;
    while (offset < piece.length) {
      if (filled === partSize) {
        yield { data: part!, last: false };
        part = null;
        filled = 0;
      }
      part ??= free.pop() ?? Buffer.allocUnsafeSlow(partSize);
      const copied = piece.copy(part, filled, offset, Math.min(piece.length, offset + partSize - filled));
      filled += copied;
      offset += copied;
    }
  }
  yield { data: part ? part.subarray(0, filled) : Buffer.concat(head, filled), last: true };
}
