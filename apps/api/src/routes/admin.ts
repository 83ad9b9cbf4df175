import { adminJobsQuerySchema, jobIdSchema, NotFoundError, queueNameSchema } from '@ctxvault/core';
import { adminJobViewSchema } from '@ctxvault/queue';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AdminDeps, ApiEnv } from '../env.ts';
import { describe, failure, json, type Operation } from '../openapi/describe.ts';
import { adminJobListSchema, queueCountsSchema, retriedSchema } from '../openapi/schemas.ts';
import { params, query } from '../openapi/validators.ts';

const byQueue = z.object({ queue: queueNameSchema });
const byJob = z.object({ queue: queueNameSchema, id: jobIdSchema });
const unauthorized = failure('admin token missing or wrong (with a Basic challenge)');
const badPath = failure('unknown queue or not a job id');
const noJob = failure('no such job');
const admin = (operation: Omit<Operation, 'tag' | 'admin'>) =>
  describe({ ...operation, tag: 'admin', admin: true, responses: { 401: unauthorized, ...operation.responses } });

/** `/api/v1/admin`: jobs by state with their contexts and reasons; retry, retry all failed, remove. */
export function adminRoutes({ jobs }: Pick<AdminDeps, 'jobs'>) {
  const found = <T>(value: T | null | false, { queue, id }: z.output<typeof byJob>): T => {
    if (value === null || value === false) throw new NotFoundError(`no job ${id} in queue ${queue}`);
    return value;
  };

  return new Hono<ApiEnv>()
    .get(
      '/queues',
      admin({
        operationId: 'queueCounts',
        summary: 'Jobs per state, per queue',
        responses: { 200: json('the counts', queueCountsSchema) },
      }),
      async (c) => c.json({ queues: await jobs.counts() } satisfies z.infer<typeof queueCountsSchema>),
    )
    .get(
      '/queues/:queue/jobs',
      admin({
        operationId: 'listJobs',
        summary: 'Jobs of a queue in one state, with their context ids and failed reasons',
        responses: { 200: json('newest first', adminJobListSchema), 400: failure('unknown queue or state') },
      }),
      params(byQueue),
      query(adminJobsQuerySchema),
      async (c) => {
        const { queue } = c.req.valid('param');
        const { state, offset, limit } = c.req.valid('query');
        const jobList = await jobs.list(queue, state, offset, limit);
        return c.json({ queue, state, jobs: jobList } satisfies z.infer<typeof adminJobListSchema>);
      },
    )
    .get(
      '/queues/:queue/jobs/:id',
      admin({
        operationId: 'getAdminJob',
        summary: 'One job with its context id',
        responses: { 200: json('the job', adminJobViewSchema), 400: badPath, 404: noJob },
      }),
      params(byJob),
      async (c) => {
        const job = c.req.valid('param');
        return c.json(found(await jobs.get(job.queue, job.id), job));
      },
    )
    .post(
      '/queues/:queue/jobs/:id/retry',
      admin({
        operationId: 'retryJob',
        summary: 'Retry a failed job with all its attempts',
        responses: {
          202: json('the job, waiting again', adminJobViewSchema),
          400: badPath,
          404: noJob,
          409: failure('the job is not failed'),
        },
      }),
      params(byJob),
      async (c) => {
        const job = c.req.valid('param');
        return c.json(found(await jobs.retry(job.queue, job.id), job), 202);
      },
    )
    .post(
      '/queues/:queue/retry-failed',
      admin({
        operationId: 'retryFailedJobs',
        summary: 'Retry every failed job of a queue',
        responses: { 202: json('how many were failed', retriedSchema), 400: badPath },
      }),
      params(byQueue),
      async (c) => {
        const { queue } = c.req.valid('param');
        return c.json({ queue, retried: await jobs.retryFailed(queue) } satisfies z.infer<typeof retriedSchema>, 202);
      },
    )
    .delete(
      '/queues/:queue/jobs/:id',
      admin({
        operationId: 'removeJob',
        summary: 'Remove a job that is not running',
        responses: { 204: 'removed', 400: badPath, 404: noJob, 409: failure('the job is running') },
      }),
      params(byJob),
      async (c) => {
        const job = c.req.valid('param');
        found(await jobs.remove(job.queue, job.id), job);
        return c.body(null, 204);
      },
    );
}
