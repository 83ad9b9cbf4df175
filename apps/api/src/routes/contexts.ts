import {
  appendItemsSchema,
  contextIdSchema,
  contextListSchema,
  contextSchema,
  contextSummarySchema,
  contextViewSchema,
  createContextSchema,
  createEnvelopeSchema,
  deletingSchema,
  documentBody,
  forkSchema,
  idempotencyKeySchema,
  listQuerySchema,
  openingLine,
  pendingWriteSchema,
  type ReadOptions,
  rawItems,
  readOptionsSchema,
  replaceContextSchema,
  restoreSchema,
  searchResultSchema,
  searchSchema,
  statusViewSchema,
  summaryQuerySchema,
  versionListSchema,
  versionsQuerySchema,
  type WriteResult,
} from '@ctxvault/core';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { isNotModified, readCondition, requireMatch, type TagCondition, versionTag } from '../conditional-requests.ts';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { itemsBody, jsonBody, jsonItemsBody } from '../openapi/bodies.ts';
import { describe, failure, json } from '../openapi/describe.ts';
import { headers, params, query } from '../openapi/validators.ts';
import { streamedBody } from '../streamed-body.ts';
import { contextIdParam, ifMatchHeader, ifNoneMatchHeader, readOptionsQuery } from './context-inputs.ts';

const byId = z.object({ id: contextIdSchema });
/** `If-Match` as a condition (RFC 9110: `*` or a list of tags); a malformed one is refused before the body is read. */
const ifMatch = z.object({
  'if-match': z
    .string()
    .describe('the version this write expects as a strong tag, e.g. "3"; or a list, or *')
    .optional()
    .transform((header) => readCondition('if-match', header)),
});
const written = {
  stored: json('stored inline: the context', contextViewSchema),
  pending: json('staged for upload; Location is its status', pendingWriteSchema),
};
const missing = failure('no such context');
const invalidInput = failure('invalid input, naming the failing fields');
const changed = failure('If-Match is not the current version');
const collected = failure('that version was collected by the lifecycle pass (details.collected_at says when)');
/** An `Idempotency-Key` on a write that makes a context or a version (create, fork, restore). */
const idempotencyKey = z.object({
  'idempotency-key': idempotencyKeySchema
    .optional()
    .describe(
      'a retry with the same key and request answers the first write (Idempotent-Replayed: true); the same key with another request is 422',
    ),
});

/** `/api/v1/contexts`: one handler per call of the design's table, each declared once for validation and docs. */
export function contextRoutes({ service, maxBodyBytes, maxContextBytes, maxItemBytes }: ApiDeps) {
  /** `?last=&max_tokens=&strategy=`: the context with only the items kept, and `window` saying what was left out. */
  const windowed = async (tenantId: string, id: string, options: ReadOptions) => {
    const { context, lines, window } = await service.read(tenantId, id, options);
    return { context, body: documentBody(openingLine({ ...context, window }), lines) };
  };

  /**
   * The version a write must find, from `If-Match`: checked here against the row (a list, `*`, a
   * weak tag that never matches), then again by the write itself, atomically, against that version.
   */
  const expectedVersion = async (
    c: Context<ApiEnv>,
    id: string,
    ifMatch: TagCondition | undefined,
  ): Promise<number | undefined> => {
    if (!ifMatch || ifMatch === '*') return undefined;
    const { version } = await service.head(c.var.tenantId, id);
    requireMatch(ifMatch, version);
    return version;
  };

  return new Hono<ApiEnv>()
    .post(
      '/',
      describe({
        operationId: 'createContext',
        tag: 'contexts',
        summary: 'Create a context',
        responses: {
          201: written.stored,
          202: written.pending,
          400: invalidInput,
          413: failure(
            'over limits.max_body_bytes (JSON), limits.max_context_bytes (NDJSON), limits.max_item_bytes (an NDJSON line) or limits.max_decompression_ratio',
          ),
          429: failure('over quotas.requests_per_second or quotas.max_staged_bytes (with Retry-After)'),
          422: failure('Idempotency-Key reused with a different request'),
          415: failure('neither application/json nor application/x-ndjson, or an unknown Content-Encoding'),
        },
      }),
      headers(idempotencyKey),
      itemsBody({
        json: createContextSchema,
        envelope: createEnvelopeSchema,
        itemsKey: 'content',
        maxBodyBytes,
        maxContextBytes,
        maxItemBytes,
        itemFormat: async (_c, envelope) => envelope?.format ?? 'ctxvault',
        example: { agent_id: 'demo', content: [{ role: 'user', content: 'hello' }] },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const input =
          body.type === 'ndjson'
            ? { ...body.envelope, content: body.items }
            : { ...body.value, content: rawItems(body.value.content, body.texts) };
        const idempotencyKey = c.req.valid('header')['idempotency-key'];
        return answerWrite(c, await service.create(c.var.tenantId, input, c.var.requestId, idempotencyKey), 201);
      },
    )
    .get(
      '/',
      describe({
        operationId: 'listContexts',
        tag: 'contexts',
        summary: 'List contexts, newest first, without bodies',
        responses: { 200: json('a page; next_cursor fetches the next', contextListSchema), 400: invalidInput },
      }),
      query(listQuerySchema),
      async (c) => c.json(await service.list(c.var.tenantId, c.req.valid('query'))),
    )
    .get(
      '/:id',
      describe({
        operationId: 'getContext',
        tag: 'contexts',
        summary:
          'Read a context with its content (ETag: its version); version= an old version while kept; last / max_tokens / strategy read a window of it, as= in another format',
        responses: {
          200: json('the context', contextSchema),
          304: 'If-None-Match is the current version',
          400: invalidInput,
          404: missing,
          410: collected,
          422: failure('as= met a part the target format cannot express; details name it'),
        },
      }),
      params(byId, contextIdParam),
      query(readOptionsSchema, readOptionsQuery),
      headers(
        z.object({
          'if-none-match': z
            .string()
            .optional()
            .describe('the ETag(s) of copies the caller has, or *')
            .transform((header) => readCondition('if-none-match', header)),
        }),
        ifNoneMatchHeader,
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        const options = c.req.valid('query');
        const ifNoneMatch = c.req.valid('header')['if-none-match'];
        const { version: asked, ...window } = options;
        if (ifNoneMatch && asked === undefined) {
          // decided on the row alone: a 304 opens no body (no staging read, no S3 GET)
          const { version } = await service.head(c.var.tenantId, id);
          if (isNotModified(ifNoneMatch, version)) {
            c.header('ETag', versionTag(version));
            return c.body(null, 304);
          }
        }
        const partial = Object.values(window).some((value) => value !== undefined);
        const { context, body } = partial
          ? await windowed(c.var.tenantId, id, options)
          : await service.get(c.var.tenantId, id, asked);
        c.header('ETag', versionTag(context.version));
        c.header('Content-Type', 'application/json; charset=utf-8');
        return streamedBody(c, body);
      },
    )
    .get(
      '/:id/versions',
      describe({
        operationId: 'listVersions',
        tag: 'contexts',
        summary: 'The versions of a context, newest first: kept ones and collected ones (keyset-paged)',
        responses: {
          200: json('a page; next_cursor fetches the next', versionListSchema),
          400: invalidInput,
          404: missing,
        },
      }),
      params(byId, contextIdParam),
      query(versionsQuerySchema),
      async (c) => c.json(await service.versions(c.var.tenantId, c.req.valid('param').id, c.req.valid('query'))),
    )
    .post(
      '/:id/restore',
      describe({
        operationId: 'restoreContext',
        tag: 'contexts',
        summary: 'Make a kept old version current again, as a new version (nothing is copied)',
        responses: {
          200: written.stored,
          202: written.pending,
          400: invalidInput,
          404: failure('no such context, or no such version of it'),
          409: failure('changed meanwhile'),
          410: collected,
          412: changed,
          422: failure('Idempotency-Key reused with a different request'),
        },
      }),
      params(byId, contextIdParam),
      headers(ifMatch.extend(idempotencyKey.shape)),
      jsonBody(restoreSchema, maxBodyBytes),
      async (c) => {
        const { id } = c.req.valid('param');
        const header = c.req.valid('header');
        const { version } = c.req.valid('json');
        const key = header['idempotency-key'];
        // a retry answers as the first restore did, whatever its If-Match says by now
        const replayed = key ? await service.replayedRestore(c.var.tenantId, id, version, key) : null;
        if (replayed) return answerWrite(c, replayed, 200);
        const expected = await expectedVersion(c, id, header['if-match']);
        return answerWrite(c, await service.restore(c.var.tenantId, id, version, expected, c.var.requestId, key), 200);
      },
    )
    .post(
      '/:id/fork',
      describe({
        operationId: 'forkContext',
        tag: 'contexts',
        summary:
          'A new context sharing the segments of a version of this one (copy-on-write: constant time and bytes); appends to either never touch the other',
        responses: {
          201: json('the new context', contextViewSchema),
          400: invalidInput,
          404: failure('no such context, or no such version of it'),
          409: failure('that version is still being stored; fork it once its status is stored'),
          410: collected,
          422: failure('Idempotency-Key reused with a different request'),
          429: failure('over quotas'),
        },
      }),
      params(byId, contextIdParam),
      headers(idempotencyKey),
      jsonBody(forkSchema, maxBodyBytes),
      async (c) => {
        const { id } = c.req.valid('param');
        const key = c.req.valid('header')['idempotency-key'];
        const result = await service.fork(c.var.tenantId, id, c.req.valid('json'), c.var.requestId, key);
        return answerWrite(c, result, 201);
      },
    )
    .get(
      '/:id/summary',
      describe({
        operationId: 'getContextSummary',
        tag: 'contexts',
        summary:
          'Counts, tokens per role, size and compression of a context; estimates=true also lists the items whose count holds estimated parts (reads the items)',
        responses: { 200: json('the summary', contextSummarySchema), 400: invalidInput, 404: missing },
      }),
      params(byId, contextIdParam),
      query(summaryQuerySchema),
      async (c) => c.json(await service.summary(c.var.tenantId, c.req.valid('param').id, c.req.valid('query'))),
    )
    .get(
      '/:id/status',
      describe({
        operationId: 'getContextStatus',
        tag: 'contexts',
        summary: 'Status of a context and of its job',
        responses: { 200: json('status, last error and job', statusViewSchema), 400: invalidInput, 404: missing },
      }),
      params(byId, contextIdParam),
      async (c) => c.json(await service.status(c.var.tenantId, c.req.valid('param').id)),
    )
    .put(
      '/:id',
      describe({
        operationId: 'replaceContext',
        tag: 'contexts',
        summary: 'Replace content and metadata: a new version',
        responses: {
          200: written.stored,
          202: written.pending,
          400: invalidInput,
          404: missing,
          409: failure('changed meanwhile'),
          412: changed,
        },
      }),
      params(byId, contextIdParam),
      headers(ifMatch, ifMatchHeader),
      jsonItemsBody(replaceContextSchema, 'content', maxBodyBytes),
      async (c) => {
        const { id } = c.req.valid('param');
        const expected = await expectedVersion(c, id, c.req.valid('header')['if-match']);
        const { value, texts } = c.req.valid('json');
        const input = { ...value, content: rawItems(value.content, texts) };
        const result = await service.replace(c.var.tenantId, id, input, expected, c.var.requestId);
        return answerWrite(c, result, 200);
      },
    )
    .post(
      '/:id/items',
      describe({
        operationId: 'appendItems',
        tag: 'contexts',
        summary: 'Append items: a new version',
        responses: { 200: written.stored, 202: written.pending, 400: invalidInput, 404: missing, 412: changed },
      }),
      params(byId, contextIdParam),
      headers(ifMatch, ifMatchHeader),
      itemsBody({
        json: appendItemsSchema,
        envelope: null,
        itemsKey: 'items',
        maxBodyBytes,
        maxContextBytes,
        maxItemBytes,
        // streamed items are checked against the context's format as they arrive
        itemFormat: async (c) => (await service.head(c.var.tenantId, c.req.param('id') ?? '')).format,
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const expected = await expectedVersion(c, id, c.req.valid('header')['if-match']);
        const body = c.req.valid('json');
        const input =
          body.type === 'ndjson'
            ? { items: body.items }
            : { ...body.value, items: rawItems(body.value.items, body.texts) };
        const result = await service.append(c.var.tenantId, id, input, expected, c.var.requestId);
        return answerWrite(c, result, 200);
      },
    )
    .delete(
      '/:id',
      describe({
        operationId: 'deleteContext',
        tag: 'contexts',
        summary: 'Delete a context and every version',
        responses: {
          202: json('marked; the worker removes objects and row', deletingSchema),
          400: invalidInput,
          404: missing,
          412: changed,
        },
      }),
      params(byId, contextIdParam),
      headers(ifMatch, ifMatchHeader),
      async (c) => {
        const { id } = c.req.valid('param');
        const expected = await expectedVersion(c, id, c.req.valid('header')['if-match']);
        return c.json(await service.delete(c.var.tenantId, id, expected, c.var.requestId), 202);
      },
    )
    .post(
      '/:id/search',
      describe({
        operationId: 'searchContext',
        tag: 'contexts',
        summary: 'Items matching a query',
        responses: {
          200: json('the matching items with their index', searchResultSchema),
          400: invalidInput,
          404: missing,
        },
      }),
      params(byId, contextIdParam),
      jsonBody(searchSchema, maxBodyBytes),
      async (c) => c.json(await service.search(c.var.tenantId, c.req.valid('param').id, c.req.valid('json'))),
    );
}

/** Inline writes answer at once with the context; staged ones answer 202 with where to poll. */
function answerWrite(c: Context<ApiEnv>, result: WriteResult, storedStatus: 200 | 201): Response {
  if (result.replayed) c.header('Idempotent-Replayed', 'true');
  if (result.state === 'stored') {
    c.header('ETag', versionTag(result.context.version));
    if (storedStatus === 201) c.header('Location', `/api/v1/contexts/${result.context.id}`);
    return c.json(result.context, storedStatus);
  }
  c.header('Location', `/api/v1/contexts/${result.id}/status`);
  c.header('ETag', versionTag(result.version));
  return c.json({ id: result.id, version: result.version, status: 'pending', job_id: result.job_id }, 202);
}
