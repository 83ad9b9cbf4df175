import { type SettingPath, settingPaths } from './setting-paths.ts';

/** The environment variable for a setting: ["storage", "s3", "region"] → "MCP_STORAGE_S3_REGION". */
export function envVarName(path: readonly PropertyKey[]): string {
  return `MCP_${path.join('_').toUpperCase()}`;
}

// Built from the schema's keys, never by splitting names on "_": keys such as context_storage contain one.
const settingByEnvVar = new Map<string, SettingPath>(settingPaths.map((path) => [envVarName(path), path]));

/**
 * The settings named by MCP_* variables, nested like config.yaml, values still strings (the schema
 * coerces them). Variables that name no setting are ignored.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [name, path] of settingByEnvVar) {
    const value = env[name];
    if (value !== undefined) setIn(settings, path, value);
  }
  return settings;
}

function setIn(target: Record<string, unknown>, path: SettingPath, value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}
