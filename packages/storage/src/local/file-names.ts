import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';

// Files the store keeps beside the objects; keys may not use these names, and listings skip them.
const TEMP_PREFIX = '.ctxvault-tmp-';
const SIDECAR_SUFFIX = '.meta.json';

/** A fresh temporary name in the same directory as `file`, so a rename onto `file` is atomic. */
export function tempPathFor(file: string): string {
  return join(dirname(file), `${TEMP_PREFIX}${randomUUID()}`);
}

export function sidecarPathFor(file: string): string {
  return `${file}${SIDECAR_SUFFIX}`;
}

export function isReservedName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) || name.endsWith(SIDECAR_SUFFIX);
}
