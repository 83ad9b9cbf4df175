import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';

/** A write refused because a unique index already holds its key (e.g. a repeated Idempotency-Key). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof UniqueConstraintViolationException;
}
