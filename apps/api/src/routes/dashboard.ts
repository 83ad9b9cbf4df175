import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import type { Queue } from '@ctxvault/queue';
import { serveStatic } from '@hono/node-server/serve-static';

/** bull-board over `queues`, to be mounted at `basePath` behind the admin credential. */
export function dashboardRoutes(queues: readonly Queue[], basePath: string) {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'ctxvault' } },
  });
  return serverAdapter.registerPlugin();
}
