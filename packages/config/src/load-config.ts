import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.ts';
import { describeIssues } from './describe-issues.ts';
import { settingsFromEnv } from './env.ts';
import { deepFreeze, mergeDeep } from './plain-objects.ts';
import { type Config, configSchema } from './schema.ts';
import { readSettingsFile, type SettingsFile } from './settings-file.ts';

export interface LoadConfigOptions {
  /** The YAML file to read. Default: MCP_CONFIG, else ./config.yaml when it exists. */
  configPath?: string;
  /** Where MCP_* variables are read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads the settings: schema defaults, overridden by the YAML file, overridden by MCP_* variables.
 * Throws a ConfigError listing every bad value. The result is deeply frozen.
 */
export function loadConfig({ configPath, env = process.env }: LoadConfigOptions = {}): Config {
  const file = findSettingsFile(configPath || env.MCP_CONFIG);
  const fromEnv = settingsFromEnv(env);
  const result = configSchema.safeParse(mergeDeep(file?.settings ?? {}, fromEnv));
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, { file, env: fromEnv }));
  return deepFreeze(result.data);
}

function findSettingsFile(namedPath: string | undefined): SettingsFile | undefined {
  if (namedPath) return readSettingsFile(resolve(namedPath));
  // an unnamed config.yaml is optional: defaults and variables are enough to run
  const defaultPath = resolve('config.yaml');
  return existsSync(defaultPath) ? readSettingsFile(defaultPath) : undefined;
}
