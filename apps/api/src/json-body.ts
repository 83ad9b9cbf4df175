import type { Context } from 'hono';
import type { z } from 'zod';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@ctxvault/core';

/**
 * Reads a JSON request body of at most `maxBytes` (413 above, checked against Content-Length first
 * and then while reading, so an oversize body is refused without being held), parses it (400 on
 * bad JSON) and validates it with `schema` (400 naming every failing field).
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new UnsupportedMediaTypeError(`Content-Type must be application/json; got ${type ? `"${type}"` : 'none'}`);
  }
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readText(c.req.raw, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`body is not valid JSON: ${(err as Error).message}`, [{ path: '', message: 'invalid JSON' }]);
  }
  return parseWith(schema, value, 'body');
}

/** Validates `value` (a body, a query or an NDJSON line) and turns zod's issues into field paths. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | `line ${number}`): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || where,
    message: issue.message,
  }));
  throw new ValidationError(`invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parts: string[] = [];
  let received = 0;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        await reader.cancel();
        throw tooLarge(maxBytes);
      }
      parts.push(decoder.decode(value, { stream: true }));
    }
    parts.push(decoder.decode());
  } catch (err) {
    if (err instanceof TypeError && /encoded data was not valid/i.test(err.message)) {
      throw new ValidationError('body is not valid UTF-8', [{ path: '', message: 'invalid UTF-8' }]);
    }
    throw err;
  }
  return parts.join('');
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `request body is larger than the limit of ${maxBytes} bytes (limits.max_body_bytes / MCP_LIMITS_MAX_BODY_BYTES)`,
    { limit_bytes: maxBytes },
  );
}
