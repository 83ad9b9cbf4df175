import { validator } from 'hono-openapi';
import type { z } from 'zod';
import type { ApiEnv } from '../env.ts';
import { type Issue, invalid, refuseUnstorable, type Where } from '../json-body.ts';

/**
 * Path parameters, query strings and headers of a route: checked by hono-openapi's validator (which
 * also documents them), failures thrown as the API's 400 with the failing field paths. (The return
 * types are spelt out so that the build's declarations can name them.)
 */
export const params = <S extends z.ZodObject, P extends string>(
  schema: S,
): ReturnType<typeof validator<S, 'param', ApiEnv, P>> =>
  validator<S, 'param', ApiEnv, P>('param', schema, refuseInvalid('path'));
export const query = <S extends z.ZodObject, P extends string>(
  schema: S,
): ReturnType<typeof validator<S, 'query', ApiEnv, P>> =>
  validator<S, 'query', ApiEnv, P>('query', schema, refuseInvalid('query'));
export const headers = <S extends z.ZodObject, P extends string>(
  schema: S,
): ReturnType<typeof validator<S, 'header', ApiEnv, P>> =>
  validator<S, 'header', ApiEnv, P>('header', schema, refuseInvalid('header'));

function refuseInvalid(where: Where) {
  return (result: { success: boolean; data: unknown; error?: readonly Issue[] }) => {
    refuseUnstorable(result.data, where);
    if (!result.success) throw invalid(where, result.error ?? []);
  };
}
