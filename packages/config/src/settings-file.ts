import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './config-error.ts';
import { describeValue } from './leaves.ts';
import { isPlainObject, type PlainObject } from './plain-objects.ts';

export interface SettingsFile {
  path: string;
  /** The file's settings; a key written without a value is left out, so it keeps its default. */
  settings: PlainObject;
  /** The line (from 1) where the key at `keyPath` is written, if it is. */
  lineOf(keyPath: readonly PropertyKey[]): number | undefined;
}

export function readSettingsFile(path: string): SettingsFile {
  const source = readSource(path);
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `${path}:${line}:${col}: invalid YAML: ${error.message}`;
      }),
    );
  }

  const settings: unknown = withoutNulls(doc.toJS()) ?? {};
  if (!isPlainObject(settings)) {
    throw new ConfigError([`${path}: must be a mapping of settings; got ${describeValue(settings)}`]);
  }

  function lineOf(keyPath: readonly PropertyKey[]): number | undefined {
    const parent = doc.getIn(keyPath.slice(0, -1), true);
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(keyPath.at(-1)));
    const offset = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  }

  return { path, settings, lineOf };
}

function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new ConfigError([`${path}: cannot read config file: ${reason}`]);
  }
}

function withoutNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (!isPlainObject(value)) return value;
  const entries = Object.entries(value).filter(([, child]) => child !== null);
  return Object.fromEntries(entries.map(([key, child]) => [key, withoutNulls(child)]));
}
