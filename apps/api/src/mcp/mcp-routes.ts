import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { describeError } from '../errors.ts';
import { readJson } from '../json-body.ts';
import { describe } from '../openapi/describe.ts';

// the MCP SDK (and the JSON Schema tooling it brings) is loaded by the first MCP request, not at
// start: most API processes never serve one, and it weighs on start-up time and idle memory
let mcpModules:
  | Promise<
      [typeof import('./mcp-server.ts'), typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js')]
    >
  | undefined;
const loadMcp = () =>
  (mcpModules ??= Promise.all([
    import('./mcp-server.ts'),
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
  ]));

/**
 * `/mcp`: MCP over Streamable HTTP, stateless. Each POST gets its own server and transport and a
 * JSON answer, so any API process can serve any request (nothing is kept between requests, as
 * with the REST API). The tenant and scopes are the request's credential's. The body gets REST's
 * checks before the SDK sees it (size, UTF-8, text PostgreSQL cannot store, nesting depth) and a
 * batch at most `maxBatchMessages` long; a refusal is a JSON-RPC error with REST's error object as
 * its `data`. GET (a server-to-client stream) and DELETE (ending a session) have no meaning without
 * sessions: 405.
 */
export function mcpRoutes({ service, maxBodyBytes, maxBatchMessages, logger }: ApiDeps) {
  return new Hono<ApiEnv>()
    .post(
      '/',
      describe({
        operationId: 'mcp',
        tag: 'mcp',
        summary: 'MCP over Streamable HTTP (stateless): JSON-RPC messages for the context tools',
        responses: { 200: 'the JSON-RPC answer', 202: 'a notification was accepted' },
      }),
      async (c) => {
        let parsedBody: unknown;
        try {
          parsedBody = await readJson(c, z.unknown(), maxBodyBytes);
        } catch (err) {
          return refused(c, describeError(err, c.var.logger ?? logger));
        }
        if (Array.isArray(parsedBody) && parsedBody.length > maxBatchMessages) {
          const message = `a JSON-RPC batch may hold at most ${maxBatchMessages} messages (limits.max_batch_messages); got ${parsedBody.length}`;
          return refused(c, {
            status: 413,
            headers: {},
            body: { error: { code: 'batch_too_large', message, details: { limit: maxBatchMessages } } },
          });
        }
        const [{ createMcpServer }, { WebStandardStreamableHTTPServerTransport }] = await loadMcp();
        const server = createMcpServer(service, { principal: c.var.principal, logger: c.var.logger ?? logger });
        const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
        await server.connect(transport);
        try {
          return await transport.handleRequest(c.req.raw, { parsedBody });
        } finally {
          await server.close();
        }
      },
    )
    .get(
      '/',
      describe({
        operationId: 'mcpStream',
        tag: 'mcp',
        summary: 'No server-to-client stream: the server is stateless',
        responses: { 405: 'POST JSON-RPC messages' },
      }),
      notAllowed,
    )
    .delete(
      '/',
      describe({
        operationId: 'mcpEndSession',
        tag: 'mcp',
        summary: 'No sessions to end: the server is stateless',
        responses: { 405: 'POST JSON-RPC messages' },
      }),
      notAllowed,
    );
}

function notAllowed(c: Context<ApiEnv>) {
  return c.json(
    {
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Method not allowed: this server is stateless; POST JSON-RPC messages' },
      id: null,
    },
    405,
    { Allow: 'POST' },
  );
}

/** A request refused before it reached the MCP server: a JSON-RPC error carrying REST's error object. */
function refused(c: Context<ApiEnv>, { status, headers, body }: ReturnType<typeof describeError>) {
  return c.json(
    { jsonrpc: '2.0', error: { code: -32600, message: body.error.message, data: body.error }, id: null },
    status as 400,
    headers,
  );
}
