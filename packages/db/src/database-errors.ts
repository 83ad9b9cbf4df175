import { DriverException, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import pg from 'pg';

/** A write refused because a unique index already holds its key (e.g. a repeated Idempotency-Key). */
export function isUniqueViolation(err: unknown): boolean {
  // through MikroORM, or straight from pg (segment-repository.ts writes with the driver)
  return err instanceof UniqueConstraintViolationException || (err as { code?: unknown } | null)?.code === '23505';
}

/** Why PostgreSQL cannot be used, in the words of the README's troubleshooting section. */
export type DatabaseUnavailableCause =
  | 'connection_refused'
  | 'connection_reset'
  | 'timeout'
  | 'host_not_found'
  | 'host_unreachable'
  | 'shut_down'
  | 'starting_up'
  | 'connection_failure'
  | 'access_denied'
  | 'no_such_database';

/** What the server answered (SQLSTATE), for the answers that mean "this database cannot be used". */
const SERVER_CAUSES: Record<string, DatabaseUnavailableCause> = {
  '57P01': 'shut_down',
  '57P02': 'shut_down',
  '57P03': 'starting_up',
  '08000': 'connection_failure',
  '08001': 'connection_failure',
  '08003': 'connection_failure',
  '08004': 'access_denied',
  '08006': 'connection_failure',
  '28000': 'access_denied',
  '28P01': 'access_denied',
  '3D000': 'no_such_database',
};

/** What the socket said, when there was no server to answer. */
const SOCKET_CAUSES: Record<string, DatabaseUnavailableCause> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ETIMEDOUT: 'timeout',
  ENOTFOUND: 'host_not_found',
  EAI_AGAIN: 'host_not_found',
  EHOSTUNREACH: 'host_unreachable',
  ENETUNREACH: 'host_unreachable',
};

/**
 * The cause when `err` (or an error it wraps) says the database cannot be used, else null. Read from
 * the error classes of the driver stack, never from messages: MikroORM's `DriverException` (every
 * failure of a query through the ORM, and of the staging's own pg calls, see StagingRepository), pg's
 * `DatabaseError` (the server's SQLSTATE) and Node's system errors (the socket's errno code). A
 * `DriverException` with neither an SQLSTATE nor a socket code is the driver failing with no answer
 * from the server (the connection ended, or none could be had in time): `connection_failure`.
 */
export function databaseUnavailableCause(err: unknown): DatabaseUnavailableCause | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof pg.DatabaseError || e instanceof DriverException || isSystemError(e)) {
      const cause = typeof code === 'string' ? (SERVER_CAUSES[code] ?? SOCKET_CAUSES[code]) : undefined;
      if (cause) return cause;
    }
    if (e instanceof DriverException && !isSqlState(code) && !isSystemError(e)) return 'connection_failure';
  }
  return null;
}

function isSystemError(e: Error): boolean {
  return typeof (e as { syscall?: unknown }).syscall === 'string';
}

function isSqlState(code: unknown): boolean {
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
