import type { AnthropicSystem, Format } from '@ctxvault/formats';
import { PayloadTooLargeError } from './errors/index.ts';
import type { ContextItem } from './schemas.ts';

/**
 * The stored body of one context version. It is the whole self-describing document, laid out one
 * item per line so it can be written, read, searched and spliced into responses as a stream:
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

const FLUSH_BYTES = 64 * 1024;
const CLOSING = ']}';

/** The opening line of a document or response: the object's fields, then `"content":[`. */
export function openingLine(fields: object): string {
  const json = JSON.stringify(fields);
  return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"content":[\n`;
}

/** Serializes a document (or a response: any fields, then `content`) in chunks of about 64 KiB; `items` may be a stream. */
export async function* serializeDocument(
  envelope: object,
  items: Iterable<ContextItem> | AsyncIterable<ContextItem>,
): AsyncGenerator<Buffer> {
  let buffered = openingLine(envelope);
  let first = true;
  for await (const item of items) {
    buffered += (first ? '' : ',\n') + JSON.stringify(item);
    first = false;
    if (buffered.length >= FLUSH_BYTES) {
      yield Buffer.from(buffered);
      buffered = '';
    }
  }
  yield Buffer.from(`${buffered}${first ? '' : '\n'}${CLOSING}\n`);
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

/** Thrown when a stored body ends early or is not in the document layout. */
export class CorruptDocumentError extends Error {}

/** The items of a stored document, in order. Throws if the body ends before its closing line. */
export async function* readItems(body: AsyncIterable<Buffer>): AsyncGenerator<ContextItem> {
  let lineNo = 0;
  let closed = false;
  for await (const line of lines(body)) {
    lineNo++;
    if (lineNo === 1) {
      if (!line.endsWith('"content":[')) throw new CorruptDocumentError('document does not open with an envelope line');
      continue;
    }
    if (line === CLOSING) {
      closed = true;
      continue;
    }
    if (closed) throw new CorruptDocumentError(`content after the closing line (line ${lineNo})`);
    yield JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line) as ContextItem;
  }
  if (!closed) throw new CorruptDocumentError('document ends before its closing line (truncated body)');
}

/**
 * Everything after the first line of a stored document: the items and the closing `]}`, byte for
 * byte. A response prefixes it with its own opening line, so a body is never parsed to be served.
 */
export async function* contentSection(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let skipping = true;
  for await (const chunk of body) {
    if (!skipping) {
      yield chunk;
      continue;
    }
    const newline = chunk.indexOf(0x0a);
    if (newline === -1) continue;
    skipping = false;
    if (newline + 1 < chunk.length) yield chunk.subarray(newline + 1);
  }
}
