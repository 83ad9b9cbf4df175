import type { ContextService } from '@ctxvault/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerContextResources } from './context-resources.ts';
import { registerContextTools } from './context-tools.ts';
import type { ToolCaller } from './tool-result.ts';

/** An MCP server speaking for one caller (its tenant and scopes): the context tools and the `context://{id}` resources. */
export function createMcpServer(service: ContextService, caller: ToolCaller): McpServer {
  const server = new McpServer(
    { name: 'ctxvault', version: '0.1.0' },
    {
      instructions:
        'ctxvault stores LLM context windows. Large writes answer "pending": poll context_status until "stored".',
    },
  );
  registerContextTools(server, service, caller);
  registerContextResources(server, service, caller);
  return server;
}
