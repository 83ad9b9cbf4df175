import { contextIdSchema, readOptionsSchema } from '@ctxvault/core';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { ApiEnv } from '../env.ts';
import { contextIdParam, ifMatchHeader, readOptionsQuery } from './context-inputs.ts';

type Attempt = { value: unknown } | { error: string };

/** What the hand-written readings give for a request: a value, `undefined` (left to the schema) or the error thrown. */
async function readings(path: string, headers: Record<string, string> = {}) {
  const app = new Hono<ApiEnv>().get('/contexts/:id', (c) => {
    const attempt = (read: () => unknown) => {
      try {
        return { value: read() ?? 'schema' };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    return c.json({
      id: attempt(() => contextIdParam(c)),
      query: attempt(() => readOptionsQuery(c)),
      ifMatch: attempt(() => ifMatchHeader(c)),
      // what the schema sees of the query: its first value per key, as the validator passes single ones
      raw: c.req.query(),
    });
  });
  return (await app.request(path, { headers })).json() as Promise<{
    id: Attempt;
    query: Attempt;
    ifMatch: Attempt;
    raw: Record<string, string>;
  }>;
}

const ID = '0192f0c4-3b1a-7c2d-8e4f-123456789abc';

describe('the hot routes’ inputs read by hand', () => {
  it('accept only what the schemas accept, with the values the schemas give', async () => {
    const accepted: [string, Record<string, number>][] = [
      ['', {}],
      ['?last=20', { last: 20 }],
      ['?max_tokens=8000', { max_tokens: 8000 }],
      ['?last=1&max_tokens=999999999&version=3', { last: 1, max_tokens: 999_999_999, version: 3 }],
    ];
    for (const [query, options] of accepted) {
      const read = await readings(`/contexts/${ID}${query}`);
      expect(read.query).toEqual({ value: options });
      expect(readOptionsSchema.parse(read.raw)).toEqual(options);
      expect(read.id).toEqual({ value: { id: contextIdSchema.parse(ID) } });
    }
  });

  it('leave every other form to the schemas (which word the errors)', async () => {
    const left = [
      '?last=0',
      '?last=020',
      '?last=-1',
      '?last=1e3',
      '?last=1234567890',
      '?last=20&last=30',
      '?last',
      '?',
      '?strategy=newest_first',
      '?last=%32%30',
      '?unknown=1',
    ];
    for (const query of left) expect((await readings(`/contexts/${ID}${query}`)).query).toEqual({ value: 'schema' });
    for (const id of [ID.toUpperCase(), 'not-an-id', `${ID}0`, '00000000-0000-0000-0000-000000000000'])
      expect((await readings(`/contexts/${id}`)).id).toEqual({ value: 'schema' });
  });

  it('refuse a malformed If-Match with the same error as the schema', async () => {
    expect((await readings(`/contexts/${ID}`, { 'if-match': '"3"' })).ifMatch).toEqual({
      value: { 'if-match': [{ weak: false, opaque: '3' }] },
    });
    expect((await readings(`/contexts/${ID}`, { 'if-match': 'three' })).ifMatch).toEqual({
      error: 'If-Match must be "*" or a list of entity tags such as "3", W/"3"',
    });
  });
});
