import { Hono } from 'hono';
import type { z } from 'zod';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { type Dependency, describeFailure } from '../errors.ts';
import { describe, json } from '../openapi/describe.ts';
import { type CheckResult, readinessSchema } from '../openapi/schemas.ts';

/** A check that has not answered by then counts as failed: /readyz must answer a probe in time. */
const CHECK_TIMEOUT_MS = 5_000;

/** `/healthz`: the process answers. `/readyz`: the database, the queue and the blob store are usable. */
export function healthRoutes({ readiness, replicaLag }: Pick<ApiDeps, 'readiness' | 'replicaLag'>) {
  return new Hono<ApiEnv>()
    .get(
      '/healthz',
      describe({
        operationId: 'healthz',
        tag: 'operations',
        summary: 'The process is alive',
        responses: { 200: '{status:"ok"}' },
      }),
      (c) => c.json({ status: 'ok' }),
    )
    .get(
      '/readyz',
      describe({
        operationId: 'readyz',
        tag: 'operations',
        summary: 'Database, queue backend and blob store are usable',
        responses: {
          200: json('every check ok', readinessSchema),
          503: json('each failed check with its cause and what to check', readinessSchema),
        },
      }),
      async (c) => {
        const names = Object.keys(readiness) as Dependency[];
        const [results, replication] = await Promise.all([
          Promise.all(names.map((name) => check(name, readiness[name]))),
          replicaLag && lagOf(replicaLag),
        ]);
        const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!])) as Record<
          Dependency,
          CheckResult
        >;
        const ready = results.every((result) => result.status === 'ok');
        const answer = {
          status: ready ? 'ready' : 'unavailable',
          checks,
          ...(replicaLag && { replication }),
        } satisfies z.input<typeof readinessSchema>;
        return c.json(answer, ready ? 200 : 503);
      },
    );
}

async function check(name: Dependency, run: () => Promise<void>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([run(), timeout]);
    return { status: 'ok' };
  } catch (err) {
    return { status: 'failed', ...describeFailure(name, err) };
  } finally {
    clearTimeout(timer);
  }
}

/** The replica's lag, or null when it cannot be read in time: a lagging replica never fails readiness. */
async function lagOf(
  read: NonNullable<ApiDeps['replicaLag']>,
): Promise<{ pending_objects: number; lag_seconds: number } | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read().catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
