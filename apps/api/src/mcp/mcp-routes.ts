import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { createMcpServer } from './mcp-server.ts';

/**
 * `/mcp`: MCP over Streamable HTTP, stateless. Each POST gets its own server and transport and a
 * JSON answer, so any API process can serve any request (nothing is kept between requests, as
 * with the REST API). The tenant is the request's `X-Tenant-Id`. GET (a server-to-client stream)
 * and DELETE (ending a session) have no meaning without sessions: 405.
 */
export function mcpRoutes({ service, maxBodyBytes }: ApiDeps) {
  return new Hono<ApiEnv>()
    .post('/', async (c) => {
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
    })
    .on(['GET', 'DELETE'], '/', (c) =>
      c.json(
        {
          jsonrpc: '2.0',
          error: { code: -32000, message: 'Method not allowed: this server is stateless; POST JSON-RPC messages' },
          id: null,
        },
        405,
        {
          Allow: 'POST',
        },
      ),
    );
}
