import { type Format, type RawItem, validItemSchema } from '@ctxvault/core';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import type { ApiEnv } from '../env.ts';
import { readJson, readJsonItems } from '../json-body.ts';
import { NDJSON_TYPE, readNdjson } from '../ndjson-body.ts';
import { documentsBody } from './describe.ts';

type BodyInput<In, Out> = { in: { json: In }; out: { json: Out } };

/** A JSON body validated with `schema` (streamed, decoded, limited to `maxBytes`): `c.req.valid('json')`. */
export function jsonBody<S extends z.ZodType>(schema: S, maxBytes: number) {
  const reader = createMiddleware<ApiEnv, string, BodyInput<z.input<S>, z.output<S>>>(
    async function jsonBodyReader(c, next) {
      c.req.addValidatedData('json', (await readJson(c, schema, maxBytes)) as object);
      await next();
    },
  );
  return documentsBody(reader, { json: schema });
}

/** A JSON body validated with `schema`, with the text of each element of its `key` array as sent: `c.req.valid('json')`. */
export function jsonItemsBody<S extends z.ZodType>(schema: S, key: string, maxBytes: number) {
  type Read = { type: 'json'; value: z.output<S>; texts: string[] };
  const reader = createMiddleware<ApiEnv, string, BodyInput<z.input<S>, Read>>(async function jsonItemsReader(c, next) {
    c.req.addValidatedData('json', await jsonItems(c, schema, key, maxBytes));
    await next();
  });
  return documentsBody(reader, { json: schema });
}

/**
 * A body of items: JSON (with the text of each item of its `itemsKey` array as sent), or NDJSON
 * whose items stream to the handler as they arrive and pass validation.
 */
export type ItemsBody<Json, Envelope> =
  | { type: 'json'; value: Json; texts: string[] }
  | { type: 'ndjson'; envelope: Envelope; items: AsyncGenerator<RawItem> };

export interface ItemsBodyOptions<J extends z.ZodType, E extends z.ZodType | null> {
  json: J;
  /** the first NDJSON line's schema; null when every line is an item */
  envelope: E;
  /** the JSON body's field holding the items */
  itemsKey: 'content' | 'items';
  maxBodyBytes: number;
  maxContextBytes: number;
  /** the largest NDJSON line */
  maxItemBytes: number;
  /** the format NDJSON items are validated in: the envelope's (a create), or the context's (an append) */
  itemFormat: (c: Context<ApiEnv>, envelope: (E extends z.ZodType ? z.output<E> : null) | null) => Promise<Format>;
  example?: z.input<J>;
}

/**
 * A JSON body validated with `json`, or an `application/x-ndjson` one (the envelope validated before
 * the handler runs, the items while they stream): `c.req.valid('json')`.
 */
export function itemsBody<J extends z.ZodType, E extends z.ZodType | null>({
  json,
  envelope,
  itemsKey,
  maxBodyBytes,
  maxContextBytes,
  maxItemBytes,
  itemFormat,
  example,
}: ItemsBodyOptions<J, E>) {
  type Envelope = E extends z.ZodType ? z.output<E> : null;
  const reader = createMiddleware<ApiEnv, string, BodyInput<z.input<J>, ItemsBody<z.output<J>, Envelope>>>(
    async function itemsBodyReader(c, next) {
      const body: ItemsBody<z.output<J>, Envelope> = NDJSON_TYPE.test(c.req.header('content-type') ?? '')
        ? {
            type: 'ndjson',
            ...((await readNdjson(c, envelope, maxContextBytes, maxItemBytes, async (first) =>
              validItemSchema(await itemFormat(c, first as Envelope | null)),
            )) as {
              envelope: Envelope;
              items: AsyncGenerator<RawItem>;
            }),
          }
        : await jsonItems(c, json, itemsKey, maxBodyBytes);
      c.req.addValidatedData('json', body);
      await next();
    },
  );
  return documentsBody(reader, { json, ndjson: { envelope }, example });
}

async function jsonItems<J extends z.ZodType>(c: Context<ApiEnv>, schema: J, key: string, maxBytes: number) {
  return { type: 'json' as const, ...(await readJsonItems(c, schema, key, maxBytes)) };
}
