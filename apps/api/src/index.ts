export { createApp, type ApiApp } from './app.ts';
export { serveApi } from './server.ts';
export type { ApiDeps } from './env.ts';
