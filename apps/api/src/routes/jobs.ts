import { jobIdSchema } from '@ctxvault/core';
import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { parseWith } from '../json-body.ts';

/** `/api/v1/jobs`: the job behind an asynchronous write, as a status view. */
export function jobRoutes({ service }: ApiDeps) {
  return new Hono<ApiEnv>().get('/:id', async (c) => {
    const id = parseWith(jobIdSchema, c.req.param('id'), 'query');
    return c.json(await service.job(id));
  });
}
