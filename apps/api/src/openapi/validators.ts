import type { Context, MiddlewareHandler } from 'hono';
import { uniqueSymbol, validator } from 'hono-openapi';
import type { z } from 'zod';
import type { ApiEnv } from '../env.ts';
import { type Issue, invalid, refuseUnstorable, type Where } from '../json-body.ts';

/**
 * A hand-written reading of a route's input for its common, valid case, so that the hot routes run
 * no schema per request; `undefined` hands the request to the schema, which then decides and words
 * any error. It must accept only what the schema accepts and give what the schema would give.
 */
export type FastPath<T> = (c: Context<ApiEnv>) => T | undefined;

/**
 * Path parameters, query strings and headers of a route: checked by hono-openapi's validator (which
 * also documents them), failures thrown as the API's 400 with the failing field paths; with `fast`,
 * the validator only sees what `fast` leaves to it. (The return types are spelt out so that the
 * build's declarations can name them.)
 */
export const params = <S extends z.ZodObject, P extends string>(
  schema: S,
  fast?: FastPath<z.output<S>>,
): ReturnType<typeof validator<S, 'param', ApiEnv, P>> =>
  withFastPath(validator<S, 'param', ApiEnv, P>('param', schema, refuseInvalid('path')), 'param', fast);
export const query = <S extends z.ZodObject, P extends string>(
  schema: S,
  fast?: FastPath<z.output<S>>,
): ReturnType<typeof validator<S, 'query', ApiEnv, P>> =>
  withFastPath(validator<S, 'query', ApiEnv, P>('query', schema, refuseInvalid('query')), 'query', fast);
export const headers = <S extends z.ZodObject, P extends string>(
  schema: S,
  fast?: FastPath<z.output<S>>,
): ReturnType<typeof validator<S, 'header', ApiEnv, P>> =>
  withFastPath(validator<S, 'header', ApiEnv, P>('header', schema, refuseInvalid('header')), 'header', fast);

function refuseInvalid(where: Where) {
  return (result: { success: boolean; data: unknown; error?: readonly Issue[] }) => {
    refuseUnstorable(result.data, where);
    if (!result.success) throw invalid(where, result.error ?? []);
  };
}

/** `checked` (its documentation included), preceded by `fast` when given. */
function withFastPath<M>(checked: M, target: 'param' | 'query' | 'header', fast: FastPath<object> | undefined): M {
  if (!fast) return checked;
  const check = checked as unknown as MiddlewareHandler<ApiEnv> & { [uniqueSymbol]: unknown };
  const middleware: MiddlewareHandler<ApiEnv> = async (c, next) => {
    const value = fast(c);
    if (value === undefined) return check(c, next);
    c.req.addValidatedData(target, value);
    await next();
  };
  return Object.assign(middleware, { [uniqueSymbol]: check[uniqueSymbol] }) as unknown as M;
}
