import {
  adminJobsQuerySchema,
  appendItemsSchema,
  contextItemSchema,
  contextListSchema,
  contextSchema,
  contextSummarySchema,
  contextViewSchema,
  createContextSchema,
  createEnvelopeSchema,
  deletingSchema,
  listQuerySchema,
  pendingWriteSchema,
  readOptionsSchema,
  replaceContextSchema,
  searchResultSchema,
  searchSchema,
  statusViewSchema,
} from '@ctxvault/core';
import { adminJobViewSchema, jobViewSchema } from '@ctxvault/queue';
import { z } from 'zod';
import { errorBodySchema } from '../errors.ts';
import { adminJobListSchema, queueCountsSchema, retriedSchema } from '../routes/admin.ts';
import { readinessSchema } from '../routes/health.ts';

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

/** Query strings by operation: the schemas the routes validate with. */
export const querySchemas = {
  list: listQuerySchema,
  read: readOptionsSchema,
  adminJobs: adminJobsQuerySchema,
} as const;

export type RequestSchemaName = keyof typeof requestSchemas;
export type ResponseSchemaName = keyof typeof responseSchemas;
export type QuerySchemaName = keyof typeof querySchemas;

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
export function withoutRootKeywords(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}
