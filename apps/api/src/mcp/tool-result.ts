import { CtxvaultError } from '@ctxvault/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * Results up to this size are repeated as JSON text for clients that read only text. Larger ones
 * (a whole large context) are not: the copy would double a message that is already large, and the
 * SDK's stdio reader slows down with the square of a message's size.
 */
const TEXT_COPY_MAX_BYTES = 1024 * 1024;

/**
 * Runs a tool's work and shapes its answer: the value as `structuredContent` and, when not too
 * large, as JSON text. A failure a client can meet becomes an error result carrying the same
 * `{error:{code, message, details}}` as the REST API; anything else propagates as a bug.
 */
export async function toolResult(work: () => Promise<object>): Promise<CallToolResult> {
  try {
    const value = await work();
    const json = JSON.stringify(value);
    const text =
      json.length <= TEXT_COPY_MAX_BYTES
        ? json
        : `The result (${json.length} bytes) is too large to repeat as text: read structuredContent, or ask for less (last, max_tokens).`;
    return { structuredContent: value as Record<string, unknown>, content: [{ type: 'text', text }] };
  } catch (err) {
    if (!(err instanceof CtxvaultError)) throw err;
    const error = { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) };
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error }) }] };
  }
}
