import type { AnthropicSystem, Format } from '@ctxvault/formats';
import { PayloadTooLargeError } from './errors/index.ts';

/**
 * The fields of a context version beside its items (its envelope). A response document is laid
 * out one item per line, so it can be streamed from the segments without parsing them:
 *
 *   {"id":…,"version":…,…,"content":[\n
 *   {item},\n
 *   {item}\n
 *   ]}\n
 */
export interface DocumentEnvelope {
  id: string;
  version: number;
  tenant_id: string;
  agent_id: string;
  model_id: string | null;
  session_id: string | null;
  name: string | null;
  metadata: Record<string, unknown>;
  max_tokens: number | null;
  /** the shape of the items */
  format: Format;
  /** an `anthropic.messages` context's top-level instructions */
  system: AnthropicSystem | null;
  created_at: string;
  expires_at: string | null;
}

/** The opening line of a document or response: the object's fields, then `"content":[`. */
export function openingLine(fields: object): string {
  const json = JSON.stringify(fields);
  return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"content":[\n`;
}

/** Splits a byte stream of UTF-8 into lines (without the newline); invalid UTF-8 throws a TypeError. */
export async function* lines(
  body: AsyncIterable<Buffer>,
  maxLineBytes = Number.POSITIVE_INFINITY,
): AsyncGenerator<string> {
  // the unfinished line is kept in pieces: appending to one growing string would make a single
  // long line cost quadratic time
  let partial: string[] = [];
  let partialBytes = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  /** a line over the cap is refused as soon as it is known to be, before more of it is held */
  const hold = (piece: string) => {
    partialBytes += Buffer.byteLength(piece);
    if (partialBytes > maxLineBytes) throw lineTooLong(maxLineBytes);
    partial.push(piece);
  };
  for await (const chunk of body) {
    const parts = decoder.decode(chunk, { stream: true }).split('\n');
    if (parts.length === 1) {
      hold(parts[0]!);
      continue;
    }
    hold(parts[0]!);
    yield partial.join('');
    for (let i = 1; i < parts.length - 1; i++) {
      if (Buffer.byteLength(parts[i]!) > maxLineBytes) throw lineTooLong(maxLineBytes);
      yield parts[i]!;
    }
    partial = [];
    partialBytes = 0;
    hold(parts.at(-1)!);
  }
  hold(decoder.decode());
  const last = partial.join('');
  if (last) yield last;
}

/** A line longer than `lines` was allowed to hold: 413. */
function lineTooLong(maxLineBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `a line is longer than the limit of ${maxLineBytes} bytes (limits.max_item_bytes / MCP_LIMITS_MAX_ITEM_BYTES)`,
    { limit_bytes: maxLineBytes },
  );
}
