import { type ServerType, serve } from '@hono/node-server';

/** How much longer than the API's own body timeout Node's whole-request timeout waits (a backstop only). */
const NODE_TIMEOUT_MARGIN_MS = 30_000;

/**
 * Listens on host:port; resolves once the socket is bound, with a close() that drains connections.
 * With `bodyTimeoutMs`, Node's own whole-request timeout (300 s by default, answered with a bare
 * 408) is moved past it, so that `limits.body_timeout` is what governs a slow body.
 */
export async function serveApi(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  host: string,
  port: number,
  { bodyTimeoutMs }: { bodyTimeoutMs?: number } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  let server: ServerType | undefined;
  const serverOptions = bodyTimeoutMs === undefined ? {} : { requestTimeout: bodyTimeoutMs + NODE_TIMEOUT_MARGIN_MS };
  const bound = await new Promise<{ port: number }>((resolve, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port, serverOptions }, (info) => resolve(info));
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
