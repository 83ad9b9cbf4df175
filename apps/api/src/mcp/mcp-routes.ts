import { type Context, Hono } from 'hono';
import type { ApiDeps, ApiEnv } from '../env.ts';
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
 * with the REST API). The tenant is the request's `X-Tenant-Id`. GET (a server-to-client stream)
 * and DELETE (ending a session) have no meaning without sessions: 405.
 */
export function mcpRoutes({ service, maxBodyBytes }: ApiDeps) {
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
        const [{ createMcpServer }, { WebStandardStreamableHTTPServerTransport }] = await loadMcp();
        const server = createMcpServer(service, c.var.tenantId);
        const transport = new WebStandardStreamableHTTPServerTransport({
          enableJsonResponse: true,
          maxRequestBodySize: maxBodyBytes,
        });
        await server.connect(transport);
        try {
          return await transport.handleRequest(c.req.raw);
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
