import type { ContextItem } from '@ctxvault/core';

/**
 * The NDJSON form of a context (`application/x-ndjson`): for a create the first line is the envelope
 * (every create field but `content`), then one item a line; an append has no envelope (null).
 * Yields UTF-8 bytes, one line at a time.
 */
export async function* ndjsonLines(
  envelope: object | null,
  items: Iterable<ContextItem> | AsyncIterable<ContextItem>,
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  if (envelope) yield encoder.encode(`${JSON.stringify(envelope)}\n`);
  for await (const item of items) yield encoder.encode(`${JSON.stringify(item)}\n`);
}
