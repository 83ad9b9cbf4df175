import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { type Env, Hono, type Schema } from 'hono';
import { generateSpecs } from 'hono-openapi';
import { DOCS_PAGE, REFERENCE_SCRIPT_PATH } from '../openapi/docs-page.ts';
import { componentSchemas } from '../openapi/schemas.ts';

/** Scalar's self-contained browser build, as installed with the app. */
const REFERENCE_SCRIPT = join(
  dirname(createRequire(import.meta.url).resolve('@scalar/api-reference')),
  'browser',
  'standalone.js',
);

/**
 * `/api/v1/openapi.json`: the OpenAPI 3.1 document of `app`, generated (once, on first request) from
 * the declarations of the routes it mounts. `/docs`: the interactive reference reading it.
 */
export function docsRoutes<E extends Env, S extends Schema>(app: Hono<E, S, string>) {
  let document: Promise<unknown> | undefined;
  return new Hono()
    .get('/api/v1/openapi.json', async (c) => {
      document ??= openApiDocument(app);
      return c.json(await document);
    })
    .get('/docs', (c) => c.html(DOCS_PAGE))
    .get(REFERENCE_SCRIPT_PATH, (c) => {
      c.header('Content-Type', 'text/javascript; charset=utf-8');
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(Readable.toWeb(createReadStream(REFERENCE_SCRIPT)) as ReadableStream);
    });
}

/** The routes' declarations, and the named schemas (requests as accepted, answers as sent) they refer to. */
function openApiDocument<E extends Env, S extends Schema>(app: Hono<E, S, string>) {
  return generateSpecs(app, {
    documentation: {
      openapi: '3.1.0',
      info: {
        title: 'ctxvault',
        version: '1',
        description:
          'Stores the context windows of LLM agents: metadata in PostgreSQL, bodies in S3 or on disk. Errors answer {error:{code, message, details}}.',
      },
      servers: [{ url: '/' }],
      // every tenant route; the admin API names its own credential
      security: [{ apiKey: [] }],
      // in the reference's order
      tags: [
        { name: 'contexts', description: 'Context windows: write, read, list, search, history' },
        { name: 'jobs', description: 'The jobs behind asynchronous writes' },
        { name: 'keys', description: "The API keys of the caller's tenant (admin scope)" },
        { name: 'admin', description: 'Queues and jobs, behind admin.token (MCP_ADMIN_TOKEN)' },
        { name: 'archive', description: "Export and import of the tenant's contexts (admin scope)" },
        { name: 'mcp', description: 'The context tools over MCP (Streamable HTTP)' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
      components: {
        schemas: componentSchemas(),
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description:
              'an API key (ctxvault keys create) or, with auth.mode "jwt", an access token; the tenant is the credential\'s',
          },
          adminBearer: { type: 'http', scheme: 'bearer', description: 'admin.token (MCP_ADMIN_TOKEN)' },
          adminBasic: { type: 'http', scheme: 'basic', description: 'any user name, admin.token as password' },
        },
      },
    },
  });
}
