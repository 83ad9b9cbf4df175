export { ConfigError } from './config-error.ts';
export { parseDuration } from './duration.ts';
export { envVarName } from './env.ts';
export { loadConfig, type LoadConfigOptions } from './load-config.ts';
export { TOKEN_ENCODINGS, type Config } from './schema.ts';
export { formatBytes, parseSize } from './size.ts';
