import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from '../env.ts';
import { describeFailure, type Dependency, type DependencyFailure } from '../errors.ts';

/** A check that has not answered by then counts as failed: /readyz must answer a probe in time. */
const CHECK_TIMEOUT_MS = 5_000;

type CheckResult = { status: 'ok' } | ({ status: 'failed' } & DependencyFailure);

/** `/healthz`: the process answers. `/readyz`: the database, the queue and the blob store are usable. */
export function healthRoutes({ readiness }: Pick<ApiDeps, 'readiness'>) {
  return new Hono<ApiEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const names = Object.keys(readiness) as Dependency[];
      const results = await Promise.all(names.map((name) => check(name, readiness[name])));
      const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
      const ready = results.every((result) => result.status === 'ok');
      return c.json({ status: ready ? 'ready' : 'unavailable', checks }, ready ? 200 : 503);
    });
}

async function check(name: Dependency, run: () => Promise<void>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })), CHECK_TIMEOUT_MS);
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
