import {
  CtxvaultError,
  type Logger,
  TooManyRequestsError,
  TruncatedSegmentError,
  UnauthorizedError,
} from '@ctxvault/core';
import { databaseUnavailableCause, StagingBusyError, StagingConflictError } from '@ctxvault/db';
import { JobStateError, QueueUnavailableError } from '@ctxvault/queue';
import { BlobStoreError, type BlobStoreErrorCode, KeyServiceError, UnsealError } from '@ctxvault/storage';
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

/** What a 503 queue_unavailable asks the client to wait before trying again. */
const QUEUE_RETRY_AFTER_SECONDS = 2;
/** A blob store that failed mid-write (a large create sent straight to it) is retried after this. */
const BLOB_STORE_RETRY_AFTER_SECONDS = 5;

/** How a browser is asked for the admin credential (the token is the password; any user name). */
const ADMIN_CHALLENGE = 'Basic realm="ctxvault admin", charset="UTF-8"';

/** A failure as the API answers it, over REST (the status and headers) and over MCP (an error result). */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** The one place where failures become HTTP answers: `{error:{code, message, details}}`. */
export function toErrorResponse(err: unknown, c: Context, logger: Logger): Response {
  const answer = describeError(err, logger);
  for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
  return c.json(answer.body, answer.status as 400);
}

/**
 * What a failure answers. Only our own errors and classified dependency failures are described to
 * the caller; anything else is logged and answered as a bare internal error (no stack, no SQL).
 */
export function describeError(err: unknown, logger: Logger): ErrorAnswer {
  const headers: Record<string, string> = {};
  const answer = (status: number, code: string, message: string, details?: unknown): ErrorAnswer => ({
    status,
    body: { error: { code, message, ...(details !== undefined && { details }) } },
    headers,
  });
  if (err instanceof CtxvaultError) {
    if (err instanceof UnauthorizedError) headers['WWW-Authenticate'] = err.challenge ?? ADMIN_CHALLENGE;
    if (err instanceof TooManyRequestsError) headers['Retry-After'] = String(err.retryAfterSeconds);
    return answer(err.status, err.code, err.message, err.details);
  }
  if (err instanceof HTTPException) {
    return answer(err.status, err.status === 404 ? 'not_found' : 'http_error', err.message || 'request failed');
  }
  if (err instanceof StagingBusyError) {
    headers['Retry-After'] = String(err.retryAfterSeconds);
    return answer(503, 'staging_busy', err.message, { limit: err.limit, retry_after_seconds: err.retryAfterSeconds });
  }
  if (err instanceof StagingConflictError) return answer(409, 'version_conflict', `${err.message}; retry`);
  if (err instanceof JobStateError) return answer(409, 'job_state_conflict', err.message, { state: err.state });
  const refused = valueRefusedByDatabase(err);
  if (refused) return answer(400, 'invalid_request', `a value of this request cannot be stored: ${refused}`);
  // before the dependencies: its cause (a refused socket, say) would pass for the database's
  if (err instanceof KeyServiceError) {
    logger.warn({ err }, 'key service unavailable');
    return answer(503, 'key_service_unavailable', `${err.message}; check encryption.kms.* and the KMS key's state`);
  }
  const dependency = failedDependency(err);
  if (dependency) {
    const failure = describeFailure(dependency, err);
    logger.warn({ err }, `${dependency} unavailable`);
    // a queue outage is mostly a Redis failover or restart: seconds
    if (dependency === 'queue') headers['Retry-After'] = String(QUEUE_RETRY_AFTER_SECONDS);
    if (dependency === 'blob_store') headers['Retry-After'] = String(BLOB_STORE_RETRY_AFTER_SECONDS);
    return answer(503, failure.code, failure.message, { cause: failure.cause });
  }
  if (err instanceof UnsealError) {
    logger.error({ err }, 'sealed body does not open');
    return answer(503, 'body_sealed', `the stored body cannot be opened: ${err.message}`);
  }
  if (err instanceof TruncatedSegmentError) {
    logger.error({ err }, 'stored body unreadable');
    return answer(503, 'body_unavailable', `the stored body cannot be read right now: ${err.message}`);
  }
  logger.error({ err }, 'unhandled error');
  return answer(500, 'internal_error', 'internal error; the server log has the details');
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
