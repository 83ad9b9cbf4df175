import {
  appendItemsSchema,
  contextItemSchema,
  contextListSchema,
  contextSchema,
  contextSummarySchema,
  contextViewSchema,
  createContextSchema,
  createEnvelopeSchema,
  deletingSchema,
  pendingWriteSchema,
  queueNameSchema,
  replaceContextSchema,
  searchResultSchema,
  searchSchema,
  statusViewSchema,
} from '@ctxvault/core';
import { adminJobViewSchema, JOB_STATES, jobViewSchema } from '@ctxvault/queue';
import { z } from 'zod';
import { errorBodySchema } from '../errors.ts';

/** The answers of the admin API. */
export const queueCountsSchema = z.object({
  queues: z.partialRecord(queueNameSchema, z.record(z.enum(JOB_STATES), z.number().int())),
});
export const adminJobListSchema = z.object({
  queue: queueNameSchema,
  state: z.enum(JOB_STATES),
  jobs: z.array(adminJobViewSchema),
});
export const retriedSchema = z.object({ queue: queueNameSchema, retried: z.number().int() });

const checkSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok') }),
  z.object({ status: z.literal('failed'), code: z.string(), cause: z.string(), message: z.string() }),
]);
export type CheckResult = z.infer<typeof checkSchema>;

/** What /readyz answers (200 when ready, else 503). */
export const readinessSchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.enum(['database', 'queue', 'blob_store']), checkSchema),
  /** with storage.replica: objects the replica still owes and the age of the oldest, null when unknown */
  replication: z.object({ pending_objects: z.number().int(), lag_seconds: z.number() }).nullable().optional(),
});

/** Request bodies: the schemas the routes validate with, described as they accept input. */
const requestSchemas = {
  ContextItem: contextItemSchema,
  CreateContext: createContextSchema,
  CreateEnvelope: createEnvelopeSchema,
  ReplaceContext: replaceContextSchema,
  AppendItems: appendItemsSchema,
  Search: searchSchema,
} as const;

/** Answers: the schemas the answers' types derive from. */
const responseSchemas = {
  Context: contextSchema,
  ContextView: contextViewSchema,
  ContextList: contextListSchema,
  PendingWrite: pendingWriteSchema,
  Deleting: deletingSchema,
  Status: statusViewSchema,
  Summary: contextSummarySchema,
  SearchResult: searchResultSchema,
  Job: jobViewSchema,
  AdminJob: adminJobViewSchema,
  AdminJobList: adminJobListSchema,
  QueueCounts: queueCountsSchema,
  Retried: retriedSchema,
  Readiness: readinessSchema,
  Error: errorBodySchema,
} as const;

const names = new Map<z.ZodType, string>(
  [...Object.entries(responseSchemas), ...Object.entries(requestSchemas)].map(([name, schema]) => [schema, name]),
);

/** The component name of a schema the document names, e.g. `CreateEnvelope`. */
export function schemaName(schema: z.ZodType): string | undefined {
  return names.get(schema);
}

/** A reference to the component of a named schema; an unnamed one is written out in place. */
export function schemaRef(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const name = names.get(schema);
  return name ? { $ref: `#/components/schemas/${name}` } : withoutRootKeywords(z.toJSONSchema(schema, { io }));
}

/** Every named schema as JSON Schema (2020-12, OpenAPI 3.1's dialect), referring to each other by name. */
export function componentSchemas(): Record<string, Record<string, unknown>> {
  const convert = (schemas: Record<string, z.ZodType>, io: 'input' | 'output') => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
    return z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}` }).schemas;
  };
  // ContextItem is in both: the item of a request body and of an answer are the same
  const all = {
    ...convert({ ...responseSchemas, ContextItem: contextItemSchema }, 'output'),
    ...convert(requestSchemas, 'input'),
  };
  return Object.fromEntries(
    Object.entries(all).map(([id, schema]) => [id, withoutRootKeywords(schema as Record<string, unknown>)]),
  );
}

/** A JSON Schema without the keywords that only make sense at a document's root. */
function withoutRootKeywords(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}
