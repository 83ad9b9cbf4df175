import { ForbiddenError, hasScope, type Logger, type Principal } from '@ctxvault/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../errors.ts';

/**
 * Results up to this size are repeated as JSON text for clients that read only text. Larger ones
 * (a whole large context) are not: the copy would double a message that is already large, and the
 * SDK's stdio reader slows down with the square of a message's size.
 */
const TEXT_COPY_MAX_BYTES = 1024 * 1024;

/** Who calls the tools and where their failures are logged. */
export interface ToolCaller {
  principal: Principal;
  logger: Logger;
}

/**
 * Runs a tool's work and shapes its answer: the value as `structuredContent` and, when not too
 * large, as JSON text. A write needs the write scope (the arguments had REST's checks with the
 * whole message, in mcpRoutes), and every failure becomes an error result with the REST API's
 * `{error:{code, message, details}}`, described as REST describes it (never a raw database message
 * or stack).
 */
export async function toolResult(
  caller: ToolCaller,
  access: 'read' | 'write',
  work: () => Promise<object>,
): Promise<CallToolResult> {
  try {
    if (!hasScope(caller.principal, access))
      throw new ForbiddenError(`this tool needs the "${access}" scope`, 'insufficient_scope', { needed: access });
    const value = await work();
    const json = JSON.stringify(value);
    const text =
      json.length <= TEXT_COPY_MAX_BYTES
        ? json
        : `The result (${json.length} bytes) is too large to repeat as text: read structuredContent, or ask for less (last, max_tokens).`;
    return { structuredContent: value as Record<string, unknown>, content: [{ type: 'text', text }] };
  } catch (err) {
    const { body } = describeError(err, caller.logger);
    return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }] };
  }
}
