import { pino, type Logger } from 'pino';
import type { Config } from '@ctxvault/config';

/** JSON logs on stdout; secrets never reach them (credentials and tokens are redacted by path too). */
export function createLogger(config: Config, name: string): Logger {
  return pino({
    name,
    level: config.logging.level,
    redact: { paths: ['*.token', '*.password', '*.secretAccessKey', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
  });
}
export type { Logger };
