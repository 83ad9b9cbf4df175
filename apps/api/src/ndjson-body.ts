import { type ContextItem, lines, type RawItem, ValidationError } from '@ctxvault/core';
import type { Context } from 'hono';
import type { z } from 'zod';
import { parseWith } from './json-body.ts';
import { isInvalidUtf8, requestBytes } from './request-body.ts';

export const NDJSON_TYPE = /^application\/x-ndjson\s*(;|$)/i;
const CONTEXT_LIMIT = 'limits.max_context_bytes / MCP_LIMITS_MAX_CONTEXT_BYTES';
const OPEN_BRACE = 0x7b;

export interface NdjsonBody<E> {
  envelope: E;
  /** the items, parsed and validated one line at a time as the body arrives, each with its line as sent */
  items: AsyncGenerator<RawItem>;
}

/**
 * Reads an `application/x-ndjson` body: with an `envelopeSchema`, the first line is the envelope
 * (validated before anything is written); every other line is one item, validated with the schema
 * `itemSchema` gives for the envelope (the item schema of the context's format). A bad line throws a
 * 400 naming its line number while the body streams, so the write it feeds is abandoned whole.
 */
export async function readNdjson<S extends z.ZodType>(
  c: Context,
  envelopeSchema: S | null,
  maxBytes: number,
  maxLineBytes: number,
  itemSchema: (envelope: z.output<S> | null) => Promise<z.ZodType<ContextItem>>,
): Promise<NdjsonBody<z.output<S> | null>> {
  // a line over the cap is refused (413) while it streams, never held whole
  const source = lines(requestBytes(c, maxBytes, CONTEXT_LIMIT), maxLineBytes)[Symbol.asyncIterator]();
  let lineNo = 0;
  const nextLine = async (): Promise<string | null> => {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await source.next();
      } catch (err) {
        if (isInvalidUtf8(err)) {
          throw new ValidationError(`line ${lineNo + 1} is not valid UTF-8`, [
            { path: `line ${lineNo + 1}`, message: 'invalid UTF-8' },
          ]);
        }
        throw err;
      }
      if (next.done) return null;
      lineNo++;
      // blank lines are skipped; an object's line (an item's, the envelope's) is not blank: no trimmed copy made
      const line = next.value;
      if (line.charCodeAt(0) === OPEN_BRACE || line.trim() !== '') return line;
    }
  };
  let envelope: z.output<S> | null = null;
  if (envelopeSchema) {
    try {
      const first = await nextLine();
      if (first === null)
        throw new ValidationError('NDJSON body is empty: line 1 must be the envelope', [
          { path: 'line 1', message: 'missing envelope' },
        ]);
      envelope = parseWith(envelopeSchema, parseLine(first, lineNo), `line ${lineNo}`);
    } catch (err) {
      await source.return?.(undefined);
      throw err;
    }
  }
  const schema = await itemSchema(envelope).catch(async (err: unknown) => {
    await source.return?.(undefined);
    throw err;
  });
  async function* items(): AsyncGenerator<RawItem> {
    try {
      let count = 0;
      for (let line = await nextLine(); line !== null; line = await nextLine()) {
        count++;
        yield { item: parseWith(schema, parseLine(line, lineNo), `line ${lineNo}`), text: line };
      }
      // an append adds items; a create (with its envelope) may start empty
      if (count === 0 && !envelopeSchema) {
        throw new ValidationError('NDJSON append has no items: send one item a line', [
          { path: 'line 1', message: 'no items' },
        ]);
      }
    } finally {
      // stops reading the body (and lets the rest be discarded) however the items end
      await source.return?.(undefined);
    }
  }
  return { envelope, items: items() };
}

function parseLine(line: string, lineNo: number): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new ValidationError(`line ${lineNo} is not valid JSON: ${(err as Error).message}`, [
      { path: `line ${lineNo}`, message: 'invalid JSON' },
    ]);
  }
}
