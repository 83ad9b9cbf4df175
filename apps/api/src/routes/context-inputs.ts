import type { ReadOptions } from '@ctxvault/core';
import { readCondition, type TagCondition } from '../conditional-requests.ts';
import type { FastPath } from '../openapi/validators.ts';

// The hot routes' inputs read by hand (see `FastPath`): only forms their schemas in `contexts.ts`
// accept, anything else left to those schemas.

/** A lowercase UUID as `z.uuid()` accepts it (versions 1-8, RFC variant). */
const CONTEXT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `/:id`, the context's id. */
export const contextIdParam: FastPath<{ id: string }> = (c) => {
  const id = c.req.param('id');
  return id !== undefined && CONTEXT_ID.test(id) ? { id } : undefined;
};

/** The numeric read options, each 1 to 999,999,999 written plainly (below every bound of `readOptionsSchema`). */
const COUNTS = new Set(['last', 'max_tokens', 'version'] as const);
type Count = typeof COUNTS extends Set<infer K> ? K : never;
const COUNT = /^[1-9][0-9]{0,8}$/;

/** `?last=&max_tokens=&version=`, each at most once; any other key or form goes to the schema. */
export const readOptionsQuery: FastPath<ReadOptions> = (c) => {
  const url = c.req.url;
  const start = url.indexOf('?');
  const options: ReadOptions = {};
  if (start < 0) return options;
  for (const pair of url.slice(start + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq) as Count;
    const value = pair.slice(eq + 1);
    if (eq < 0 || !COUNTS.has(key) || options[key] !== undefined || !COUNT.test(value)) return undefined;
    options[key] = Number(value);
  }
  return options;
};

/** `If-None-Match` as a condition; a malformed one is refused as the schema's transform refuses it. */
export const ifNoneMatchHeader: FastPath<{ 'if-none-match': TagCondition | undefined }> = (c) => ({
  'if-none-match': readCondition('if-none-match', c.req.header('if-none-match')),
});

/** `If-Match` as a condition; a malformed one is refused as the schema's transform refuses it. */
export const ifMatchHeader: FastPath<{ 'if-match': TagCondition | undefined }> = (c) => ({
  'if-match': readCondition('if-match', c.req.header('if-match')),
});
