import { describeRoute, uniqueSymbol } from 'hono-openapi';
import type { z } from 'zod';
import { errorBodySchema } from '../errors.ts';
import { schemaName, schemaRef } from './schemas.ts';

/** An answer of an operation: a bare description, or one with the JSON body it carries. */
type Answer = string | { description: string; content: Record<string, { schema: Record<string, unknown> }> };

export interface Operation {
  operationId: string;
  tag: 'contexts' | 'jobs' | 'keys' | 'admin' | 'archive' | 'mcp' | 'operations';
  summary: string;
  /** behind the admin credential */
  admin?: boolean;
  responses: Record<number, Answer>;
}

/**
 * The OpenAPI part of a route's one declaration: what it does and what it answers. Its parameters
 * and body are documented by the validators the route runs (`params`, `query`, `headers`, the body
 * readers), so what the document says is what the route checks.
 */
export function describe({ operationId, tag, summary, admin, responses }: Operation) {
  return describeRoute({
    operationId,
    tags: [tag],
    summary,
    ...(admin && { security: [{ adminBearer: [] }, { adminBasic: [] }] }),
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, answer]) => [
        status,
        typeof answer === 'string' ? { description: answer } : answer,
      ]),
    ),
  });
}

/** An answer with a JSON body of `schema` (a named component when it has a name). */
export function json(description: string, schema: z.ZodType) {
  return { description, content: { 'application/json': { schema: schemaRef(schema, 'output') } } };
}

/** An error answer: `{error:{code, message, details}}`. */
export function failure(description: string) {
  return json(description, errorBodySchema);
}

/** The request body a body reader accepts, as the OpenAPI document describes it. */
export interface BodySpec {
  json: z.ZodType;
  /** also accepts `application/x-ndjson`: this envelope on the first line (if any), then one item a line */
  ndjson?: { envelope: z.ZodType | null };
  /** what the reference page fills in as the JSON body */
  example?: unknown;
}

/**
 * Marks a body reader as the documentation of its route's request body. The readers stream, decode
 * and limit the body themselves (hono-openapi's own JSON validator would buffer it whole).
 */
export function documentsBody<M extends object>(reader: M, { json, ndjson, example }: BodySpec): M {
  const limits = ndjson
    ? 'JSON up to limits.max_body_bytes, or NDJSON up to limits.max_context_bytes (streamed, validated line by line)'
    : 'JSON up to limits.max_body_bytes';
  const content: Record<string, unknown> = {
    'application/json': { schema: schemaRef(json, 'input'), ...(example !== undefined && { example }) },
  };
  if (ndjson) {
    const first = ndjson.envelope ? `the first line a ${schemaName(ndjson.envelope)}, then ` : '';
    content['application/x-ndjson'] = { schema: { type: 'string', description: `${first}one ContextItem a line` } };
  }
  return Object.assign(reader, {
    [uniqueSymbol]: {
      spec: {
        requestBody: {
          required: true,
          description: `${limits}; Content-Encoding gzip or zstd is decoded on the way in`,
          content,
        },
        responses: {},
      },
    },
  });
}
