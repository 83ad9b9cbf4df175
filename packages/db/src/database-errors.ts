import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';

/** A write refused because a unique index already holds its key (e.g. a repeated Idempotency-Key). */
export function isUniqueViolation(err: unknown): boolean {
  // through MikroORM, or straight from pg (segment-repository.ts writes with the driver)
  return err instanceof UniqueConstraintViolationException || (err as { code?: unknown } | null)?.code === '23505';
}
