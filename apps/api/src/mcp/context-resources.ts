import { type ContextService, contextIdSchema, ValidationError } from '@ctxvault/core';
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';

/** How many contexts a resource listing shows (the newest); context_list pages through all of them. */
const LISTED = 100;

/** `context://{id}`: each context as a JSON resource (the whole document, as GET /contexts/{id} serves it). */
export function registerContextResources(server: McpServer, service: ContextService, tenantId: string): void {
  const template = new ResourceTemplate('context://{id}', {
    list: async () => {
      const { items } = await service.list(tenantId, { limit: LISTED });
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
      const parsed = contextIdSchema.safeParse(id);
      if (!parsed.success) throw new ValidationError(`${uri.href} does not name a context id`);
      const { body } = await service.get(tenantId, parsed.data);
      const text = Buffer.concat(await Array.fromAsync(body)).toString('utf8');
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text }] };
    },
  );
}
