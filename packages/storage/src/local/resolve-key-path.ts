import { resolve, sep } from 'node:path';
import { InvalidKeyError } from '../errors/invalid-key-error.ts';
import { assertValidKey } from '../key-rules.ts';
import { isReservedName } from './file-names.ts';

/** The file a key names under `root`; throws InvalidKeyError for any key that could land elsewhere. */
export function resolveKeyPath(root: string, key: string): string {
  assertValidKey(key);
  const segments = key.split('/');
  if (segments.some(isReservedName)) throw new InvalidKeyError(key, 'it uses a name the local store reserves');
  const rootPath = resolve(root);
  const path = resolve(rootPath, ...segments);
  // The rules above already exclude "..", absolute paths and backslashes; this is the last line of defence.
  if (!path.startsWith(rootPath + sep)) throw new InvalidKeyError(key, 'it resolves outside the storage root');
  return path;
}
