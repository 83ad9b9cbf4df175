import { Hono } from 'hono';
import { z } from 'zod';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { parseWith } from '../json-body.ts';

const jobIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'not a job id');

/** `/api/v1/jobs`: the job behind an asynchronous write, as a status view. */
export function jobRoutes({ service }: ApiDeps) {
  return new Hono<ApiEnv>().get('/:id', async (c) => {
    const id = parseWith(jobIdSchema, c.req.param('id'), 'query');
    return c.json(await service.job(id));
  });
}
