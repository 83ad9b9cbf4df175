// One PGlite (WASM Postgres) instance persisted on disk and served over the Postgres wire protocol,
// so ordinary `pg`-based code (MikroORM, BullMQ's PostgreSQL backend) connects with a postgres:// URL.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** Parent directory; the instance lives in `<dataDir>/<name>`. */
  dataDir: string;
  /** Instance name, also its sub-directory. */
  name: string;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Statements run on the instance before it is served. All wire connections share PGlite's single
   * session, so session settings made here (e.g. `SET search_path`) apply to every client.
   */
  initSql?: string[];
  /** Maximum concurrent wire connections (default 100; pglite-socket's own default is 1). */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres@host:port/postgres` */
  url: string;
  /** Stops the socket server and closes PGlite (flushing to disk). Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MAX_CONNECTIONS = 100;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  const dir = join(options.dataDir, options.name);
  await mkdir(dir, { recursive: true });

  const db = await PGlite.create({ dataDir: dir });
  let server: PGLiteSocketServer | undefined;
  try {
    for (const sql of options.initSql ?? []) await db.exec(sql);
    server = new PGLiteSocketServer({
      db,
      host,
      port: options.port ?? 0,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    });
    await server.start();
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }

  const running = server;
  let closing: Promise<void> | undefined;
  return {
    url: postgresUrl(host, listeningPort(running)),
    close() {
      closing ??= (async () => {
        try {
          await running.stop();
        } finally {
          // PGlite.close() takes the query lock, so a ROLLBACK queued by a detaching client runs first.
          await db.close();
        }
      })();
      return closing;
    },
  };
}

/** The port actually bound (the server only reports it as "host:port"). */
function listeningPort(server: PGLiteSocketServer): number {
  const conn = server.getServerConn();
  const port = Number(conn.slice(conn.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`embedded postgres: cannot read port from "${conn}"`);
  return port;
}

function postgresUrl(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `postgres://postgres@${h}:${port}/postgres`;
}
