import { jobIdSchema } from '@ctxvault/core';
import { jobViewSchema } from '@ctxvault/queue';
import { Hono } from 'hono';
import { z } from 'zod';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { describe, failure, json } from '../openapi/describe.ts';
import { params } from '../openapi/validators.ts';

/** `/api/v1/jobs`: the job behind an asynchronous write, as a status view. */
export function jobRoutes({ service }: ApiDeps) {
  return new Hono<ApiEnv>().get(
    '/:id',
    describe({
      operationId: 'getJob',
      tag: 'jobs',
      summary: 'A job: state, byte progress, attempts, failed reason',
      responses: { 200: json('the job', jobViewSchema), 400: failure('not a job id'), 404: failure('no such job') },
    }),
    params(z.object({ id: jobIdSchema })),
    async (c) => c.json(await service.job(c.var.tenantId, c.req.valid('param').id)),
  );
}
