/** An answer of the API that is not a success: `code` is the API's error code (`not_found`, `version_conflict`, …). */
export class CtxvaultApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400 `invalid_request`: `details` name the failing fields (or the NDJSON line). */
export class InvalidRequestError extends CtxvaultApiError {}
/** 404 `not_found`. */
export class NotFoundError extends CtxvaultApiError {}
/** 409 `version_conflict` or 412 `precondition_failed`: someone else wrote first. */
export class ConflictError extends CtxvaultApiError {}
/** 410 `version_collected`: that version is no longer kept; `details.collected_at` says when it went. */
export class GoneError extends CtxvaultApiError {}
/** 413 `payload_too_large`: send the context as NDJSON (`upload`). */
export class PayloadTooLargeError extends CtxvaultApiError {}
/** 503: a dependency of the server (database, queue, blob store) is down; retry later. */
export class ServiceUnavailableError extends CtxvaultApiError {}

/** The server could not be reached at all (refused, reset, name not found). */
export class ConnectionError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const reason = (cause as { cause?: { code?: string; message?: string } }).cause;
    super(`cannot reach ctxvault at ${url}: ${reason?.code ?? reason?.message ?? (cause as Error).message}`, { cause });
    this.name = 'ConnectionError';
  }
}

/**
 * An answer broke off before its end: the server aborted it (a read of the blob store failed midway)
 * or the connection was cut. What arrived is incomplete and must not be used.
 */
export class IncompleteResponseError extends Error {
  readonly code = 'incomplete_response';

  constructor(
    /** e.g. `GET /contexts/…` */
    readonly call: string,
    readonly receivedBytes: number,
    readonly requestId: string | undefined,
    cause: unknown,
  ) {
    const reason = (cause as { cause?: { code?: string; message?: string } }).cause;
    super(
      `the answer to ${call} broke off after ${receivedBytes} bytes (${reason?.code ?? reason?.message ?? (cause as Error).message})${requestId ? `; request id ${requestId}` : ''}: it is incomplete, try again`,
      { cause },
    );
    this.name = 'IncompleteResponseError';
  }
}

/** `waitUntilStored` saw the context's upload fail for good. */
export class ContextFailedError extends Error {
  constructor(
    readonly id: string,
    readonly reason: string | null,
  ) {
    super(`context ${id} failed to store: ${reason ?? 'no reason given'}`);
    this.name = 'ContextFailedError';
  }
}

/** `waitUntilStored` ran out of time. */
export class WaitTimeoutError extends Error {
  constructor(
    readonly id: string,
    readonly timeoutMs: number,
    readonly lastStatus: string,
  ) {
    super(`context ${id} is still ${lastStatus} after ${timeoutMs} ms`);
    this.name = 'WaitTimeoutError';
  }
}

const BY_STATUS: Record<number, typeof CtxvaultApiError> = {
  400: InvalidRequestError,
  404: NotFoundError,
  409: ConflictError,
  410: GoneError,
  412: ConflictError,
  413: PayloadTooLargeError,
  503: ServiceUnavailableError,
};

/** The typed error for a failed response, from its `{error:{code, message, details}}` body. */
export async function apiErrorFrom(response: Response): Promise<CtxvaultApiError> {
  const text = await response.text();
  let error: { code?: unknown; message?: unknown; details?: unknown } = {};
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
  } catch {
    // not our JSON (a proxy's page, say): keep the text as the message
  }
  const ErrorClass = BY_STATUS[response.status] ?? CtxvaultApiError;
  return new ErrorClass(
    response.status,
    typeof error.code === 'string' ? error.code : `http_${response.status}`,
    typeof error.message === 'string' ? error.message : text.slice(0, 500) || response.statusText,
    error.details,
    response.headers.get('x-request-id') ?? undefined,
  );
}
