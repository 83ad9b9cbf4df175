import type { Context } from 'hono';
import { contextItemSchema, createContextSchema, lines, ValidationError, type ContextItem, type CreateInput } from '@ctxvault/core';
import type { z } from 'zod';
import { parseWith } from './json-body.ts';

/** The first line of an NDJSON create: every field of a JSON create but `content` (and `truncate`, which needs two passes). */
const envelopeSchema = createContextSchema.omit({ content: true, truncate: true });

export function isNdjson(c: Context): boolean {
  return /^application\/x-ndjson\s*(;|$)/i.test(c.req.header('content-type') ?? '');
}

/**
 * Reads a create sent as `application/x-ndjson`: the envelope from the first line, then the items
 * one line at a time as the body streams in, each validated as it arrives. A bad line fails the
 * write with 400 naming the line; the writer stages in one transaction, so nothing is left behind.
 * No size limit applies: the body is never held whole.
 */
export async function readNdjsonCreate(c: Context): Promise<CreateInput> {
  const body = c.req.raw.body;
  const source = lines((body ?? []) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await source.next();
  if (first.done) throw new ValidationError('NDJSON body is empty: the first line must be the envelope', [{ path: 'line 1', message: 'missing envelope' }]);
  const envelope = parseLine(envelopeSchema, first.value, 1);
  async function* items(): AsyncGenerator<ContextItem> {
    for (let lineNo = 2; ; lineNo++) {
      const next = await source.next();
      if (next.done) return;
      if (next.value.trim() === '') continue;
      try {
        yield parseLine(contextItemSchema, next.value, lineNo);
      } catch (err) {
        // the answer goes out before the rest of the body is read: this connection cannot carry another request
        c.header('Connection', 'close');
        throw err;
      }
    }
  }
  return { ...envelope, content: items() };
}

function parseLine<S extends z.ZodType>(schema: S, line: string, lineNo: number): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new ValidationError(`line ${lineNo} is not valid JSON: ${(err as Error).message}`, [{ line: lineNo, path: '', message: 'invalid JSON' }]);
  }
  try {
    return parseWith(schema, value, `line ${lineNo}`);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(err.message, (err.details as object[]).map((detail) => ({ line: lineNo, ...detail })));
  }
}
