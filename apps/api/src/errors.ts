import { CtxvaultError, type Logger, TruncatedSegmentError } from '@ctxvault/core';
import { databaseUnavailableCause, StagingBusyError, StagingConflictError } from '@ctxvault/db';
import { JobStateError, QueueUnavailableError } from '@ctxvault/queue';
import { BlobStoreError, type BlobStoreErrorCode } from '@ctxvault/storage';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';

/** Every error answer. */
export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
type ErrorBody = z.infer<typeof errorBodySchema>;

export type Dependency = 'database' | 'queue' | 'blob_store';

/** A dependency that cannot be used, in the words of the README's troubleshooting section. */
export interface DependencyFailure {
  code: `${Dependency}_unavailable`;
  /** what went wrong, e.g. `connection_refused`, `access_denied`, `no_such_bucket` */
  cause: string;
  /** the cause and what to check */
  message: string;
}

/** How a browser is asked for the admin credential (the token is the password; any user name). */
const ADMIN_CHALLENGE = 'Basic realm="ctxvault admin", charset="UTF-8"';

/** The one place where failures become HTTP answers: `{error:{code, message, details}}`. */
export function toErrorResponse(err: unknown, c: Context, logger: Logger): Response {
  if (err instanceof CtxvaultError) {
    if (err.status === 401) c.header('WWW-Authenticate', ADMIN_CHALLENGE);
    return json(c, err.status, err.code, err.message, err.details);
  }
  if (err instanceof HTTPException) {
    return json(c, err.status, err.status === 404 ? 'not_found' : 'http_error', err.message || 'request failed');
  }
  if (err instanceof StagingBusyError) {
    c.header('Retry-After', String(err.retryAfterSeconds));
    return json(c, 503, 'staging_busy', err.message, { limit: err.limit, retry_after_seconds: err.retryAfterSeconds });
  }
  if (err instanceof StagingConflictError) return json(c, 409, 'version_conflict', `${err.message}; retry`);
  if (err instanceof JobStateError) return json(c, 409, 'job_state_conflict', err.message, { state: err.state });
  const refused = valueRefusedByDatabase(err);
  if (refused) return json(c, 400, 'invalid_request', `a value of this request cannot be stored: ${refused}`);
  const dependency = failedDependency(err);
  if (dependency) {
    const failure = describeFailure(dependency, err);
    logger.warn({ err }, `${dependency} unavailable`);
    return json(c, 503, failure.code, failure.message, { cause: failure.cause });
  }
  if (err instanceof TruncatedSegmentError) {
    logger.error({ err }, 'stored body unreadable');
    return json(c, 503, 'body_unavailable', `the stored body cannot be read right now: ${err.message}`);
  }
  logger.error({ err }, 'unhandled error');
  return json(c, 500, 'internal_error', 'internal error; the server log has the details');
}

/** Names what failed and what to check; `/readyz` and the 503 answers use the same words. */
export function describeFailure(dependency: Dependency, err: unknown): DependencyFailure {
  if (dependency === 'blob_store') {
    const cause = err instanceof BlobStoreError ? err.code : 'unknown';
    const hint = err instanceof BlobStoreError ? err.hint : 'see the server log';
    return {
      code: 'blob_store_unavailable',
      cause,
      message: `blob store ${cause}: ${(err as Error).message}; ${hint}`,
    };
  }
  if (dependency === 'database') {
    const cause = databaseUnavailableCause(err) ?? 'unknown';
    return {
      code: 'database_unavailable',
      cause,
      message: `database unreachable (${cause}): ${DATABASE_HINTS[cause] ?? DATABASE_HINTS.default}`,
    };
  }
  const cause = err instanceof QueueUnavailableError ? err.reason : 'unknown';
  return {
    code: 'queue_unavailable',
    cause,
    message: `queue unreachable (${cause}): check redis.url (MCP_REDIS_URL) and that Redis is running (with queue.backend "postgres": database.url and PostgreSQL)`,
  };
}

function json(c: Context, status: number, code: string, message: string, details?: unknown): Response {
  const body: ErrorBody = { error: { code, message, ...(details !== undefined && { details }) } };
  return c.json(body, status as 400);
}

/**
 * Blob store failures that are ours or the caller's, not the store's: a bad key or range, a body of
 * the wrong length, a cancelled call, an object a row points to that is gone. Every other failure of
 * the store (unreachable, refused, cut connections, throttling, 5xx, anything S3 answered that we
 * cannot place) is a 503 naming the store: a dependency's hiccup is never a 500.
 */
const NOT_THE_STORES_FAULT = new Set<BlobStoreErrorCode>([
  'invalid_key',
  'invalid_range',
  'length_mismatch',
  'aborted',
  'not_found',
]);

/**
 * Which dependency failed, from the error classes the packages throw where the failure arose: the
 * blob store's BlobStoreError, the queue's QueueUnavailableError, the ORM's and pg's errors (db).
 */
function failedDependency(err: unknown): Dependency | null {
  if (err instanceof BlobStoreError) return NOT_THE_STORES_FAULT.has(err.code) ? null : 'blob_store';
  if (err instanceof QueueUnavailableError) return 'queue';
  if (databaseUnavailableCause(err)) return 'database';
  return null;
}

const DATABASE_HINTS: Record<string, string> = {
  default: 'check database.url (MCP_DATABASE_URL) and that PostgreSQL is running',
  access_denied: 'check the user and password in database.url (MCP_DATABASE_URL)',
  no_such_database: 'create the database or fix its name in database.url (MCP_DATABASE_URL)',
};

/** A PostgreSQL data exception (SQLSTATE class 22): the request carried a value the column refuses. */
function valueRefusedByDatabase(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (/^22[0-9A-Z]{3}$/.test(code)) return DATA_EXCEPTIONS[code] ?? `the database refused a value (SQLSTATE ${code})`;
  }
  return null;
}

const DATA_EXCEPTIONS: Record<string, string> = {
  '22003': 'a number is out of range (max_tokens, tokens and their sum are at most 2147483647)',
  '22008': 'a date is out of range (years 0001 to 9999)',
};
