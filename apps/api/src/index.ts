export { createApp, type ApiApp } from './app.ts';
export { serveApi } from './server.ts';
export { metricsRoutes } from './routes/metrics.ts';
export type { ApiDeps } from './env.ts';
