import { UnsupportedMediaTypeError, ValidationError } from '@ctxvault/core';
import type { Context } from 'hono';
import type { z } from 'zod';
import { JsonItemsScanner } from './json-items.ts';
import { parseItem } from './large-items.ts';
import { isInvalidUtf8, requestBytes } from './request-body.ts';
import { findUnstorable } from './storable-json.ts';

const JSON_LIMIT = 'limits.max_body_bytes / MCP_LIMITS_MAX_BODY_BYTES';

/**
 * Reads a JSON request body of at most `maxBytes` (413 above, without holding it), parses it (400 on
 * bad JSON or bad UTF-8) and validates it with `schema` (400 naming every failing field).
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<z.output<S>> {
  return parseWith(schema, await readJsonValue(c, maxBytes), 'body');
}

/** The body's text, decoded as it arrives; 400 when it is not UTF-8. */
async function* bodyText(c: Context, maxBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of requestBytes(c, maxBytes, JSON_LIMIT)) yield decoder.decode(chunk, { stream: true });
    yield decoder.decode();
  } catch (err) {
    if (isInvalidUtf8(err)) {
      throw new ValidationError('body is not valid UTF-8', [{ path: '', message: 'invalid UTF-8' }]);
    }
    throw err;
  }
}

/** `readJson`'s text, whole. */
async function readJsonValue(c: Context, maxBytes: number): Promise<unknown> {
  requireType(c, /^application\/json\s*(;|$)/i, 'application/json');
  return parseJson(async () => {
    const parts: string[] = [];
    for await (const part of bodyText(c, maxBytes)) parts.push(part);
    return JSON.parse(parts.join('')) as unknown;
  });
}

/**
 * `readJson` for a body whose `key` array holds items: the body is scanned as it arrives (no
 * whole-body text, no long synchronous pass, so a large body does not stall the event loop) and each
 * item is parsed once complete; returns the validated body with the text of each item as sent.
 */
export async function readJsonItems<S extends z.ZodType>(
  c: Context,
  schema: S,
  key: string,
  maxBytes: number,
): Promise<{ value: z.output<S>; texts: string[] }> {
  requireType(c, /^application\/json\s*(;|$)/i, 'application/json');
  const scanner = new JsonItemsScanner(key);
  let items: string[] | null = null;
  let values: unknown[] = [];
  const value = await parseJson(async () => {
    for await (const part of bodyText(c, maxBytes)) {
      scanner.push(part);
      // a repeated key starts the items again
      if (scanner.items !== items) [items, values] = [scanner.items, []];
      for (let i = values.length; items && i < items.length; i++) {
        values.push(await parseItem(items[i]!, scanner.longStrings[i]!));
      }
    }
    scanner.end();
    const envelope = JSON.parse(scanner.envelope) as unknown;
    if (items && typeof envelope === 'object' && envelope !== null) (envelope as Record<string, unknown>)[key] = values;
    return envelope;
  });
  return { value: parseWith(schema, value, 'body'), texts: items ?? [] };
}

/** The value `parse` gives; 400 naming the syntax error when the body is not JSON. */
async function parseJson(parse: () => Promise<unknown>): Promise<unknown> {
  try {
    return await parse();
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new ValidationError(`body is not valid JSON: ${err.message}`, [{ path: '', message: 'invalid JSON' }]);
  }
}

/** 415 unless the Content-Type matches. */
function requireType(c: Context, pattern: RegExp, expected: string): void {
  const type = c.req.header('content-type') ?? '';
  if (!pattern.test(type)) {
    throw new UnsupportedMediaTypeError(`Content-Type must be ${expected}; got ${type ? `"${type}"` : 'none'}`);
  }
}

/** Where a value came from: names it in the error message and prefixes its field paths. */
export type Where = 'body' | 'query' | 'path' | 'header' | `line ${number}`;

/** A validation issue as zod and every Standard Schema library report it. */
export interface Issue {
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
  readonly message: string;
}

/**
 * Validates `value` (a body, query, header or NDJSON line) and turns zod's issues into field paths.
 * Text the database cannot store and too deep nesting are refused first, wherever they are.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: Where): z.output<S> {
  refuseUnstorable(value, where);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalid(where, result.error.issues);
}

/** 400 when `value` holds text PostgreSQL cannot store, or nests too deep. */
export function refuseUnstorable(value: unknown, where: Where): void {
  const unstorable = findUnstorable(value);
  if (!unstorable) return;
  const path = fieldPath(where, unstorable.path ? unstorable.path.split('.') : []);
  throw new ValidationError(`invalid ${where}: ${path}: ${unstorable.message}`, [
    { path, message: unstorable.message },
  ]);
}

/** The 400 naming every failing field (`content.0.role`, `header:idempotency-key`, `line 3.role`). */
export function invalid(where: Where, issues: readonly Issue[]): ValidationError {
  const details = issues.map((issue) => ({
    path: fieldPath(
      where,
      (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)),
    ),
    message: issue.message,
  }));
  return new ValidationError(`invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

function fieldPath(where: Where, path: string[]): string {
  if (where === 'header') return `header:${path.join('.')}`;
  return (where.startsWith('line ') ? [where, ...path] : path).join('.') || where;
}
