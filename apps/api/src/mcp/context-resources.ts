import { type ContextService, contextIdSchema, ValidationError } from '@ctxvault/core';
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../errors.ts';
import type { ToolCaller } from './tool-result.ts';

/** How many contexts a resource listing shows (the newest); context_list pages through all of them. */
const LISTED = 100;

/** `context://{id}`: each context as a JSON resource (the whole document, as GET /contexts/{id} serves it). */
export function registerContextResources(server: McpServer, service: ContextService, caller: ToolCaller): void {
  const tenantId = caller.principal.tenantId;
  /** A failure as REST describes it (never a raw database message), as a JSON-RPC error. */
  const described = (err: unknown) => {
    const { status, body } = describeError(err, caller.logger);
    return new McpError(
      status < 500 ? ErrorCode.InvalidParams : ErrorCode.InternalError,
      body.error.message,
      body.error,
    );
  };
  const template = new ResourceTemplate('context://{id}', {
    list: async () => {
      const { items } = await service.list(tenantId, { limit: LISTED }).catch((err: unknown) => {
        throw described(err);
      });
      return {
        resources: items.map((context) => ({
          uri: `context://${context.id}`,
          name: context.name ?? context.id,
          description: `${context.agent_id}: ${context.message_count} items, ${context.current_tokens} tokens (${context.status})`,
          mimeType: 'application/json',
        })),
      };
    },
  });
  server.registerResource(
    'context',
    template,
    { description: 'A stored context window: its fields and all of its items', mimeType: 'application/json' },
    async (uri, { id }) => {
      try {
        const parsed = contextIdSchema.safeParse(id);
        if (!parsed.success) throw new ValidationError(`${uri.href} does not name a context id`);
        const { body } = await service.get(tenantId, parsed.data);
        const text = Buffer.concat(await Array.fromAsync(body)).toString('utf8');
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text }] };
      } catch (err) {
        throw described(err);
      }
    },
  );
}
