import { withLogContext } from '@ctxvault/observability';
import type { Context } from 'hono';
import type { ApiEnv } from './env.ts';

/**
 * A body is sent in pieces of at least this many bytes (its last one aside): one socket write per
 * piece instead of one per item line.
 */
const PIECE_BYTES = 64 * 1024;

/**
 * The first piece, awaited before the status is sent, may be this large: a body up to it (a cached
 * 64 KiB context with its opening and closing lines, a window of recent items) is answered whole,
 * with its Content-Length, in one write, without a stream around it.
 */
export const FIRST_PIECE_BYTES = 256 * 1024;

/**
 * Answers with `body` streamed as it is produced. Its first piece (FIRST_PIECE_BYTES) is awaited before
 * the status is sent, so a failure up to there is an ordinary error answer, and a body that ends
 * within it is sent with its Content-Length. A failure after it can no longer change the status:
 * the response is aborted instead (the connection is cut before the chunked encoding's last
 * chunk), so no client can take a cut-off body for a whole one, and the failure is logged with the
 * request id.
 */
export async function streamedBody(c: Context<ApiEnv>, body: AsyncIterable<Uint8Array>): Promise<Response> {
  const { logger, requestId } = c.var;
  const chunks = body[Symbol.asyncIterator]();
  // S3 calls made while reading carry the request id too
  const next = (bytes = PIECE_BYTES) => withLogContext({ request_id: requestId }, () => nextPiece(chunks, bytes));
  const first = await next(FIRST_PIECE_BYTES);
  // a body's chunks are Buffers over ArrayBuffers (never shared memory)
  if (first.ended) return c.body(first.bytes as Uint8Array<ArrayBuffer>);
  let sent = first.bytes.byteLength;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(first.bytes);
      },
      async pull(controller) {
        try {
          const piece = await next();
          if (piece.bytes.byteLength > 0) {
            sent += piece.bytes.byteLength;
            controller.enqueue(piece.bytes);
          }
          if (piece.ended) controller.close();
        } catch (err) {
          withLogContext({ request_id: requestId }, () =>
            logger.error({ err, sent_bytes: sent }, 'response aborted: reading the body failed midway'),
          );
          controller.error(err);
        }
      },
      async cancel() {
        // the client went away: stop reading (closes S3 connections, aborts parts in flight)
        await chunks.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  // chunked from the first byte: the end of a complete body is its last chunk, which an aborted one lacks
  c.header('Transfer-Encoding', 'chunked');
  return c.body(stream);
}

/** The next `pieceBytes` (or more) of `chunks`, or what is left of them, and whether they ended. */
async function nextPiece(
  chunks: AsyncIterator<Uint8Array>,
  pieceBytes: number,
): Promise<{ bytes: Uint8Array; ended: boolean }> {
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < pieceBytes) {
    const chunk = await chunks.next();
    if (chunk.done) return { bytes: joined(parts, size), ended: true };
    parts.push(chunk.value);
    size += chunk.value.byteLength;
  }
  return { bytes: joined(parts, size), ended: false };
}

function joined(parts: Uint8Array[], size: number): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}
