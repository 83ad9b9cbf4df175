import type { Config } from '@ctxvault/config';
import { logContext } from '@ctxvault/observability';
import { type Logger, pino } from 'pino';

/**
 * A serving process's lines are written to stdout once this many bytes wait, or every FLUSH_MS: one
 * write for several request lines instead of one each (a write per request was 5–7 % of the API's
 * CPU on small requests). On exit (process.exit, a handled signal, the loop ending) what waits is
 * written at once; a process killed outright (SIGKILL) loses at most FLUSH_MS of lines. One-shot
 * commands write each line at once: what they print besides (a report on stdout) follows their lines.
 */
const BATCH_BYTES = 4096;
const FLUSH_MS = 50;

/**
 * JSON logs on stdout. Every line written while serving a request or running a job carries its
 * `request_id` (and `job_id`), S3 calls included. Secrets never reach them: nothing logs headers or
 * credentials, and such fields are redacted by path too.
 */
export function createLogger(config: Config, name: string, { serving = false } = {}): Logger {
  return pino(
    {
      name,
      level: config.logging.level,
      mixin: logContext,
      redact: {
        paths: ['*.token', '*.password', '*.secretAccessKey', '*.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination(serving ? { dest: 1, minLength: BATCH_BYTES, periodicFlush: FLUSH_MS } : { dest: 1 }),
  );
}
export type { Logger };
