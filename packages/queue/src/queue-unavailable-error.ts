/** Why the queue backend cannot be used, in the words of the README's troubleshooting section. */
export type QueueUnavailableCause = 'connection_refused' | 'timeout' | 'access_denied' | 'connection_failure';

/**
 * A call to the queue backend (Redis, or PostgreSQL for `queue.backend: postgres`) that failed
 * because the backend cannot be used: thrown by JobProducer and QueueAdmin where the call failed,
 * classified by what its connection reported (see connection.ts), with the original as `cause`.
 */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';

  constructor(
    readonly reason: QueueUnavailableCause,
    cause: unknown,
  ) {
    super(`queue backend unavailable (${reason}): ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}
