import { withLogContext } from '@ctxvault/observability';
import type { Context } from 'hono';
import type { ApiEnv } from './env.ts';

/**
 * Answers with `body` streamed as it is produced. Its first chunk is awaited before the status is
 * sent, so a failure up to there is an ordinary error answer. A failure after it can no longer change
 * the status: the response is aborted instead (the connection is cut before the chunked encoding's
 * last chunk), so no client can take a cut-off body for a whole one, and the failure is logged with
 * the request id.
 */
export async function streamedBody(c: Context<ApiEnv>, body: AsyncIterable<Uint8Array>): Promise<Response> {
  const { logger, requestId } = c.var;
  const chunks = body[Symbol.asyncIterator]();
  // S3 calls made while reading carry the request id too
  const next = () => withLogContext({ request_id: requestId }, () => chunks.next());
  const first = await next();
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (first.done) controller.close();
        else {
          sent += first.value.byteLength;
          controller.enqueue(first.value);
        }
      },
      async pull(controller) {
        try {
          const chunk = await next();
          if (chunk.done) return controller.close();
          sent += chunk.value.byteLength;
          controller.enqueue(chunk.value);
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
