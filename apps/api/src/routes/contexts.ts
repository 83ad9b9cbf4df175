import {
  appendItemsSchema,
  contextIdSchema,
  createContextSchema,
  createEnvelopeSchema,
  idempotencyKeySchema,
  listQuerySchema,
  type ReadOptions,
  readOptionsSchema,
  replaceContextSchema,
  searchSchema,
  serializeDocument,
  type WriteResult,
} from '@ctxvault/core';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { parseWith, readJson } from '../json-body.ts';
import { NDJSON_TYPE, readNdjson } from '../ndjson-body.ts';
import { streamedBody } from '../streamed-body.ts';
import { ifMatchVersion, versionTag } from '../versions.ts';

/** `/api/v1/contexts`: one handler per call of the design's table. */
export function contextRoutes({ service, maxBodyBytes, maxContextBytes }: ApiDeps) {
  const contextId = (c: Context<ApiEnv>) => parseWith(contextIdSchema, c.req.param('id'), 'query');
  /** `?last=&max_tokens=&strategy=`: the context with only the items kept, and `window` saying what was left out. */
  const windowed = async (tenantId: string, id: string, options: ReadOptions) => {
    const { context, items, window } = await service.read(tenantId, id, options);
    return { context, body: serializeDocument({ ...context, window }, items) };
  };

  return new Hono<ApiEnv>()
    .post('/', async (c) => {
      const header = c.req.header('idempotency-key');
      const idempotencyKey =
        header === undefined ? undefined : parseWith(idempotencyKeySchema, header, 'header:idempotency-key');
      const input = isNdjson(c)
        ? await readNdjson(c, createEnvelopeSchema, maxContextBytes).then(({ envelope, items }) => ({
            ...envelope!,
            content: items,
          }))
        : await readJson(c, createContextSchema, maxBodyBytes);
      return answerWrite(c, await service.create(c.var.tenantId, input, c.var.requestId, idempotencyKey), 201);
    })
    .get('/', async (c) => {
      const query = parseWith(listQuerySchema, c.req.query(), 'query');
      return c.json(await service.list(c.var.tenantId, query));
    })
    .get('/:id', async (c) => {
      const id = contextId(c);
      const options = parseWith(readOptionsSchema, c.req.query(), 'query');
      const partial = Object.values(options).some((value) => value !== undefined);
      const { context, body } = partial
        ? await windowed(c.var.tenantId, id, options)
        : await service.get(c.var.tenantId, id);
      const etag = versionTag(context.version);
      c.header('ETag', etag);
      if (c.req.header('if-none-match') === etag) return c.body(null, 304);
      c.header('Content-Type', 'application/json; charset=utf-8');
      return streamedBody(c, body);
    })
    .get('/:id/summary', async (c) => c.json(await service.summary(c.var.tenantId, contextId(c))))
    .get('/:id/status', async (c) => c.json(await service.status(c.var.tenantId, contextId(c))))
    .put('/:id', async (c) => {
      const id = contextId(c);
      const expected = ifMatchVersion(c.req.header('if-match'));
      const input = await readJson(c, replaceContextSchema, maxBodyBytes);
      return answerWrite(c, await service.replace(c.var.tenantId, id, input, expected, c.var.requestId), 200);
    })
    .post('/:id/items', async (c) => {
      const id = contextId(c);
      const expected = ifMatchVersion(c.req.header('if-match'));
      const input = isNdjson(c)
        ? { items: (await readNdjson(c, null, maxContextBytes)).items }
        : await readJson(c, appendItemsSchema, maxBodyBytes);
      return answerWrite(c, await service.append(c.var.tenantId, id, input, expected, c.var.requestId), 200);
    })
    .delete('/:id', async (c) => {
      const id = contextId(c);
      const expected = ifMatchVersion(c.req.header('if-match'));
      return c.json(await service.delete(c.var.tenantId, id, expected, c.var.requestId), 202);
    })
    .post('/:id/search', async (c) => {
      const id = contextId(c);
      const input = await readJson(c, searchSchema, maxBodyBytes);
      return c.json(await service.search(c.var.tenantId, id, input));
    });
}

/** Large contexts stream in as NDJSON (first line the envelope, then one item a line). */
function isNdjson(c: Context<ApiEnv>): boolean {
  return NDJSON_TYPE.test(c.req.header('content-type') ?? '');
}

/** Inline writes answer at once with the context; staged ones answer 202 with where to poll. */
function answerWrite(c: Context<ApiEnv>, result: WriteResult, storedStatus: 200 | 201): Response {
  if (result.state === 'stored') {
    c.header('ETag', versionTag(result.context.version));
    if (storedStatus === 201) c.header('Location', `/api/v1/contexts/${result.context.id}`);
    return c.json(result.context, storedStatus);
  }
  c.header('Location', `/api/v1/contexts/${result.id}/status`);
  c.header('ETag', versionTag(result.version));
  return c.json({ id: result.id, version: result.version, status: 'pending', job_id: result.job_id }, 202);
}
