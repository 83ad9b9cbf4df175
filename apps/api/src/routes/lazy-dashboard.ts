import type { Queue } from '@ctxvault/queue';
import { Hono } from 'hono';

/**
 * The dashboard, loaded by its first request: bull-board (with its templates and lodash) is not
 * needed to start an API process and weighs on start-up time and idle memory. Requests are passed
 * on to bull-board's routes, mounted at `basePath` as they would be in the app itself.
 */
export function lazyDashboardRoutes(queues: () => readonly Queue[], basePath: string) {
  let dashboard: Promise<Hono> | undefined;
  const load = () =>
    (dashboard ??= import('./dashboard.ts').then(({ dashboardRoutes }) =>
      new Hono().route(basePath, dashboardRoutes(queues(), basePath)),
    ));
  return new Hono().all('*', async (c) => (await load()).fetch(c.req.raw, c.env));
}
