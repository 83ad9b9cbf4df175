import type { z } from 'zod';
import { envVarName } from './env.ts';
import { hasValueAt, type PlainObject } from './plain-objects.ts';
import { isSettingPath, keysUnder } from './setting-paths.ts';
import type { SettingsFile } from './settings-file.ts';

export interface SettingSources {
  file: SettingsFile | undefined;
  /** What the MCP_* variables set, nested like the file. */
  env: PlainObject;
}

/** One line per problem, naming the key, its variable, and the file and line when the value came from the file. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], sources: SettingSources): string[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => describeUnknownKey([...issue.path, key], sources))
      : [`${whereWritten(issue.path, sources)}${label(issue.path)}: ${issue.message}`],
  );
}

function describeUnknownKey(path: readonly PropertyKey[], sources: SettingSources): string {
  const known = keysUnder(path.slice(0, -1)).join(', ');
  return `${whereWritten(path, sources)}${path.join('.')}: unknown key; known keys here: ${known}`;
}

function label(path: readonly PropertyKey[]): string {
  return isSettingPath(path) ? `${path.join('.')} (${envVarName(path)})` : path.join('.');
}

/** "file:line: " when the file wrote the value (and no variable overrode it), else "". */
function whereWritten(path: readonly PropertyKey[], { file, env }: SettingSources): string {
  if (!file || hasValueAt(env, path) || !hasValueAt(file.settings, path)) return '';
  const line = file.lineOf(path);
  return line === undefined ? `${file.path}: ` : `${file.path}:${line}: `;
}
