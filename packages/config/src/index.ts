export { ConfigError } from './config-error.ts';
export { parseDuration } from './duration.ts';
export { envVarName } from './env.ts';
export { type LoadConfigOptions, loadConfig } from './load-config.ts';
export { type Config, isLoopback, TOKEN_ENCODINGS } from './schema.ts';
export { formatBytes, parseSize } from './size.ts';
