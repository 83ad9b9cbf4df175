import { ValidationError } from '@ctxvault/core';

/** The ETag of a context is its version. */
export function versionTag(version: number): string {
  return `"${version}"`;
}

/** The version an `If-Match` header asks for: `"3"`, `W/"3"` or `3`; undefined when absent. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw new ValidationError('If-Match must be a context version such as "3"', [
      { path: 'header:if-match', message: 'not a version' },
    ]);
  }
  return Number(match[1]);
}
