import { type ServerType, serve } from '@hono/node-server';

/** Listens on host:port; resolves once the socket is bound, with a close() that drains connections. */
export async function serveApi(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  let server: ServerType | undefined;
  const bound = await new Promise<{ port: number }>((resolve, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port }, (info) => resolve(info));
    server.once('error', reject);
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server?.close(() => resolve());
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      })),
  };
}
