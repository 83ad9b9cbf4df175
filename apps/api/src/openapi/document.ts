import { contextIdSchema, idempotencyKeySchema, jobIdSchema, queueNameSchema } from '@ctxvault/core';
import { z } from 'zod';
import { componentSchemas, querySchemas, withoutRootKeywords } from './components.ts';
import { type Answer, type Operation, operations } from './operations.ts';

type JsonSchema = Record<string, unknown>;

/** Path parameters by name: the schemas the routes validate with. */
const pathParameters: Record<string, z.ZodType> = { id: contextIdSchema, job_id: jobIdSchema, queue: queueNameSchema };

/** The OpenAPI 3.1 description of the HTTP API, generated from the zod schemas of requests and answers. */
export function openApiDocument(): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'ctxvault',
      version: '1',
      description:
        'Stores the context windows of LLM agents: metadata in PostgreSQL, bodies in S3 or on disk. Errors answer {error:{code, message, details}}.',
    },
    servers: [{ url: '/' }],
    components: {
      schemas: componentSchemas(),
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
        schema: withoutRootKeywords(z.toJSONSchema(pathParameters[name!]!, { io: 'input' })),
      })),
      ...(op.query ? queryParameters(querySchemas[op.query]) : []),
      ...(op.ifMatch
        ? [
            {
              name: 'If-Match',
              in: 'header',
              required: false,
              description: 'the version this write expects, e.g. "3"',
              schema: { type: 'string' },
            },
          ]
        : []),
      ...(op.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'a retry with the same key answers the first write',
              schema: withoutRootKeywords(z.toJSONSchema(idempotencyKeySchema)),
            },
          ]
        : []),
    ];
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      tags: [op.tag],
      summary: op.summary,
      operationId: op.id,
      ...(parameters.length > 0 && { parameters }),
      ...(op.body && { requestBody: { required: true, content: requestContent(op) } }),
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([status, answer]) => [status, response(op, status, answer)]),
      ),
      ...(op.tag === 'admin' && { security: [{ adminBearer: [] }, { adminBasic: [] }] }),
    };
  }
  return paths;
}

/** JSON, and for large bodies NDJSON: validated line by line while it streams to staging. */
function requestContent(op: Operation): JsonSchema {
  const json = { 'application/json': { schema: ref(op.body!) } };
  if (!op.ndjson) return json;
  const first = op.ndjson.envelope ? `the first line is a ${op.ndjson.envelope}, then ` : '';
  return {
    ...json,
    'application/x-ndjson': {
      schema: { type: 'string', description: `${first}one ContextItem a line (up to limits.max_context_bytes)` },
    },
  };
}

/** An answer with its body's schema; error statuses of the REST API carry its error body. */
function response(op: Operation, status: string, answer: Answer): JsonSchema {
  const errorBody = Number(status) >= 400 && op.path.startsWith('/api/') ? ('Error' as const) : undefined;
  const { description, schema } = typeof answer === 'string' ? { description: answer, schema: errorBody } : answer;
  return { description, ...(schema && { content: { 'application/json': { schema: ref(schema) } } }) };
}

function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

function queryParameters(schema: z.ZodObject): JsonSchema[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}
