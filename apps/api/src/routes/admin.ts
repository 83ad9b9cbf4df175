import { Hono, type Context } from 'hono';
import { adminJobsQuerySchema, jobIdSchema, NotFoundError, queueNameSchema } from '@ctxvault/core';
import type { AdminDeps, ApiEnv } from '../env.ts';
import { parseWith } from '../json-body.ts';

/** `/api/v1/admin`: jobs by state with their contexts and reasons; retry, retry all failed, remove. */
export function adminRoutes({ jobs }: Pick<AdminDeps, 'jobs'>) {
  const queueOf = (c: Context<ApiEnv>) => parseWith(queueNameSchema, c.req.param('queue'), 'query');
  const jobOf = (c: Context<ApiEnv>) => parseWith(jobIdSchema, c.req.param('id'), 'query');
  const found = <T>(value: T | null | false, c: Context<ApiEnv>): T => {
    if (value === null || value === false) throw new NotFoundError(`no job ${c.req.param('id')} in queue ${c.req.param('queue')}`);
    return value;
  };

  return new Hono<ApiEnv>()
    .get('/queues', async (c) => c.json({ queues: await jobs.counts() }))
    .get('/queues/:queue/jobs', async (c) => {
      const queue = queueOf(c);
      const query = parseWith(adminJobsQuerySchema, c.req.query(), 'query');
      return c.json({ queue, state: query.state, jobs: await jobs.list(queue, query.state, query.offset, query.limit) });
    })
    .get('/queues/:queue/jobs/:id', async (c) => c.json(found(await jobs.get(queueOf(c), jobOf(c)), c)))
    .post('/queues/:queue/jobs/:id/retry', async (c) => c.json(found(await jobs.retry(queueOf(c), jobOf(c)), c), 202))
    .post('/queues/:queue/retry-failed', async (c) => c.json({ queue: queueOf(c), retried: await jobs.retryFailed(queueOf(c)) }, 202))
    .delete('/queues/:queue/jobs/:id', async (c) => {
      found(await jobs.remove(queueOf(c), jobOf(c)), c);
      return c.body(null, 204);
    });
}
