import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CtxvaultError } from '@ctxvault/core';

/**
 * Runs a tool's work and shapes its answer: the value as `structuredContent` and, for clients that
 * read only text, as JSON text. A failure a client can meet becomes an error result carrying the
 * same `{error:{code, message, details}}` as the REST API; anything else propagates as a bug.
 */
export async function toolResult(work: () => Promise<object>): Promise<CallToolResult> {
  try {
    const value = await work();
    return { structuredContent: value as Record<string, unknown>, content: [{ type: 'text', text: JSON.stringify(value) }] };
  } catch (err) {
    if (!(err instanceof CtxvaultError)) throw err;
    const error = { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) };
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error }) }] };
  }
}
