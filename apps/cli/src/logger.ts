import type { Config } from '@ctxvault/config';
import { logContext } from '@ctxvault/observability';
import { type Logger, pino } from 'pino';

/**
 * JSON logs on stdout. Every line written while serving a request or running a job carries its
 * `request_id` (and `job_id`), S3 calls included. Secrets never reach them: nothing logs headers or
 * credentials, and such fields are redacted by path too.
 */
export function createLogger(config: Config, name: string): Logger {
  return pino({
    name,
    level: config.logging.level,
    mixin: logContext,
    redact: {
      paths: ['*.token', '*.password', '*.secretAccessKey', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
export type { Logger };
