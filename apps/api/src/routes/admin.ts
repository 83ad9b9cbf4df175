import { adminJobsQuerySchema, jobIdSchema, NotFoundError, queueNameSchema } from '@ctxvault/core';
import { adminJobViewSchema, JOB_STATES } from '@ctxvault/queue';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AdminDeps, ApiEnv } from '../env.ts';
import { parseWith } from '../json-body.ts';

/** The answers of the admin API, as the OpenAPI document describes them. */
export const queueCountsSchema = z.object({
  queues: z.partialRecord(queueNameSchema, z.record(z.enum(JOB_STATES), z.number().int())),
});
export const adminJobListSchema = z.object({
  queue: queueNameSchema,
  state: z.enum(JOB_STATES),
  jobs: z.array(adminJobViewSchema),
});
export const retriedSchema = z.object({ queue: queueNameSchema, retried: z.number().int() });

/** `/api/v1/admin`: jobs by state with their contexts and reasons; retry, retry all failed, remove. */
export function adminRoutes({ jobs }: Pick<AdminDeps, 'jobs'>) {
  const queueOf = (c: Context<ApiEnv>) => parseWith(queueNameSchema, c.req.param('queue'), 'query');
  const jobOf = (c: Context<ApiEnv>) => parseWith(jobIdSchema, c.req.param('id'), 'query');
  const found = <T>(value: T | null | false, c: Context<ApiEnv>): T => {
    if (value === null || value === false)
      throw new NotFoundError(`no job ${c.req.param('id')} in queue ${c.req.param('queue')}`);
    return value;
  };

  return new Hono<ApiEnv>()
    .get('/queues', async (c) => c.json({ queues: await jobs.counts() } satisfies z.infer<typeof queueCountsSchema>))
    .get('/queues/:queue/jobs', async (c) => {
      const queue = queueOf(c);
      const query = parseWith(adminJobsQuerySchema, c.req.query(), 'query');
      const jobList = await jobs.list(queue, query.state, query.offset, query.limit);
      return c.json({ queue, state: query.state, jobs: jobList } satisfies z.infer<typeof adminJobListSchema>);
    })
    .get('/queues/:queue/jobs/:id', async (c) => c.json(found(await jobs.get(queueOf(c), jobOf(c)), c)))
    .post('/queues/:queue/jobs/:id/retry', async (c) => c.json(found(await jobs.retry(queueOf(c), jobOf(c)), c), 202))
    .post('/queues/:queue/retry-failed', async (c) => {
      const queue = queueOf(c);
      return c.json({ queue, retried: await jobs.retryFailed(queue) } satisfies z.infer<typeof retriedSchema>, 202);
    })
    .delete('/queues/:queue/jobs/:id', async (c) => {
      found(await jobs.remove(queueOf(c), jobOf(c)), c);
      return c.body(null, 204);
    });
}
