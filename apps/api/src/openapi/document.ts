import { z } from 'zod';
import {
  adminJobsQuerySchema,
  appendItemsSchema,
  contextIdSchema,
  contextItemSchema,
  createContextSchema,
  jobIdSchema,
  listQuerySchema,
  queueNameSchema,
  replaceContextSchema,
  searchSchema,
} from '@ctxvault/core';
import { operations, type Operation } from './operations.ts';

type JsonSchema = Record<string, unknown>;

/** The request schemas the routes validate with, named as components. */
const components = {
  ContextItem: contextItemSchema,
  CreateContext: createContextSchema,
  ReplaceContext: replaceContextSchema,
  AppendItems: appendItemsSchema,
  Search: searchSchema,
} as const;
export type ComponentName = keyof typeof components;

/** Path and query parameters, by the name they have in the paths. */
const parameterSchemas = { id: contextIdSchema, job_id: jobIdSchema, queue: queueNameSchema } as const;
export type PathParameter = keyof typeof parameterSchemas;
const querySchemas = { list: listQuerySchema, adminJobs: adminJobsQuerySchema } as const;
export type QueryName = keyof typeof querySchemas;

/** The OpenAPI 3.1 description of the HTTP API, generated from the zod schemas the routes validate with. */
export function openApiDocument(): JsonSchema {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/components/schemas/${id}` });
  return {
    openapi: '3.1.0',
    info: {
      title: 'ctxvault',
      version: '1',
      description: 'Stores the context windows of LLM agents: metadata in PostgreSQL, bodies in S3 or on disk. Errors answer {error:{code, message, details}}.',
    },
    servers: [{ url: '/' }],
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, plain(schema as JsonSchema)])),
      securitySchemes: {
        adminBearer: { type: 'http', scheme: 'bearer', description: 'admin.token (MCP_ADMIN_TOKEN)' },
        adminBasic: { type: 'http', scheme: 'basic', description: 'any user name, admin.token as password' },
      },
    },
    paths: pathsOf(operations),
  };
}

function pathsOf(list: readonly Operation[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of list) {
    const parameters = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: 'path',
        required: true,
        schema: plain(z.toJSONSchema(parameterSchemas[name as PathParameter], { io: 'input' })),
      })),
      ...(op.query ? queryParameters(querySchemas[op.query]) : []),
      ...(op.ifMatch ? [{ name: 'If-Match', in: 'header', required: false, description: 'the version this write expects, e.g. "3"', schema: { type: 'string' } }] : []),
    ];
    (paths[op.path] ??= {})[op.method] = {
      tags: [op.tag],
      summary: op.summary,
      operationId: op.id,
      ...(parameters.length > 0 && { parameters }),
      ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.body}` } } } } }),
      responses: Object.fromEntries(Object.entries(op.responses).map(([status, description]) => [status, { description }])),
      ...(op.tag === 'admin' && { security: [{ adminBearer: [] }, { adminBasic: [] }] }),
    };
  }
  return paths;
}

function queryParameters(schema: z.ZodObject): JsonSchema[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

/** A JSON Schema without the keywords that only make sense at a document's root. */
function plain(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}
