export { type ApiApp, createApp } from './app.ts';
export type { ApiDeps, RequestCounter, SecurityDeps } from './env.ts';
export { metricsRoutes } from './routes/metrics.ts';
export { serveApi } from './server.ts';
