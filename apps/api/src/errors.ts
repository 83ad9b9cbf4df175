import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { CtxvaultError, CorruptDocumentError, type Logger } from '@ctxvault/core';
import { BlobStoreError, type BlobStoreErrorCode } from '@ctxvault/storage';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The one place where failures become HTTP answers: `{error:{code, message, details}}`. */
export function toErrorResponse(err: unknown, c: Context, logger: Logger): Response {
  if (err instanceof CtxvaultError) return json(c, err.status, err.code, err.message, err.details);
  if (err instanceof HTTPException) {
    return json(c, err.status, err.status === 404 ? 'not_found' : 'http_error', err.message || 'request failed');
  }
  if (err instanceof BlobStoreError && BLOB_STORE_OUTAGES.has(err.code)) {
    logger.warn({ err }, 'blob store unavailable');
    return json(c, 503, 'blob_store_unavailable', `blob store: ${err.message}`, { cause: err.code, hint: err.hint });
  }
  const database = databaseUnavailable(err);
  if (database) {
    logger.warn({ err }, 'database unavailable');
    return json(c, 503, 'database_unavailable', `database unreachable (${database}): check database.url (MCP_DATABASE_URL) and that PostgreSQL is running`);
  }
  const queue = queueUnavailable(err);
  if (queue) {
    logger.warn({ err }, 'queue unavailable');
    return json(c, 503, 'queue_unavailable', `queue unreachable (${queue}): check redis.url (MCP_REDIS_URL) and that Redis is running`);
  }
  if (err instanceof CorruptDocumentError) {
    logger.error({ err }, 'stored body unreadable');
    return json(c, 503, 'body_unavailable', `the stored body cannot be read right now: ${err.message}`);
  }
  logger.error({ err }, 'unhandled error');
  return json(c, 500, 'internal_error', 'internal error; the server log has the details');
}

function json(c: Context, status: number, code: string, message: string, details?: unknown): Response {
  const body: ErrorBody = { error: { code, message, ...(details !== undefined && { details }) } };
  // an early answer may leave part of the request body unread: the connection must not be reused
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') c.header('Connection', 'close');
  return c.json(body, status as 400);
}

/** Blob store failures that mean "the store is unreachable or misconfigured", not a bug of ours. */
const BLOB_STORE_OUTAGES = new Set<BlobStoreErrorCode>(['connection_refused', 'access_denied', 'no_such_bucket', 'wrong_region', 'timeout', 'no_space']);

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P03', '08006', '08001']);

function databaseUnavailable(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as Error).name ?? '';
    const code = String((e as { code?: unknown }).code ?? '');
    if (name === 'ConnectionException' || (CONNECTION_CODES.has(code) && !isRedisError(e))) return code || name;
    if (/Connection terminated|connect ECONNREFUSED .*:5432|timeout exceeded when trying to connect/i.test((e as Error).message ?? '')) {
      return code || 'connection failed';
    }
  }
  return null;
}

function queueUnavailable(err: unknown): string | null {
  const message = (err as Error)?.message ?? '';
  if (/Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|Connection is closed/i.test(message)) return 'redis';
  return null;
}

function isRedisError(e: unknown): boolean {
  return /redis/i.test(String((e as Error).message ?? '')) || (e as { name?: string }).name === 'ReplyError';
}
