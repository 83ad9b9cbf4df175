import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written while serving one request or running one job carries. */
export interface LogFields {
  request_id?: string;
  job_id?: string;
  queue?: string;
  context_id?: string;
}

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to every log line written inside it, however deep (S3 calls included). */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** The fields of the request or job being served: a pino `mixin` (a copy: pino merges each line's fields into it). */
export function logContext(): LogFields {
  return { ...storage.getStore() };
}
