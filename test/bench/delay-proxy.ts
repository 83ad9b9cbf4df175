// A tiny HTTP proxy that waits a fixed delay before forwarding each request, to simulate the latency
// of a remote S3 in front of the local moto server. It counts the requests it forwards by method
// (PUT: PutObject and UploadPart; GET: GetObject and listings; POST: multipart create/complete), so a
// benchmark can say what S3 would bill.
import { createServer, request, type Server } from 'node:http';

export interface DelayProxy {
  url: string;
  /** requests forwarded so far, by HTTP method */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

export async function startDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const to = new URL(target);
  const counts: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    counts[method] = (counts[method] ?? 0) + 1;
    req.pause();
    setTimeout(() => {
      const upstream = request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
      req.pipe(upstream);
      req.resume();
    }, delayMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
