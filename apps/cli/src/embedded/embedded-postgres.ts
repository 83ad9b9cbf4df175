// One PGlite (WASM Postgres) instance persisted on disk and served over the Postgres wire protocol,
// so ordinary `pg`-based code (MikroORM, BullMQ's PostgreSQL backend) connects with a postgres:// URL.
// It has no password: it listens on a Unix socket in a directory only its owner may enter (0700),
// never on a TCP port, and its files are made 0600.
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** Parent directory; the instance lives in `<dataDir>/<name>`. */
  dataDir: string;
  /** Instance name, also its sub-directory (and `<name>.socket`, the directory of its socket). */
  name: string;
  /**
   * Statements run on the instance before it is served. All wire connections share PGlite's single
   * session, so session settings made here (e.g. `SET search_path`) apply to every client.
   */
  initSql?: string[];
  /** Maximum concurrent wire connections (default 100; pglite-socket's own default is 1). */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres@<socket directory, URL-encoded>:5432/postgres` */
  url: string;
  /** Stops the socket server and closes PGlite (flushing to disk). Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MAX_CONNECTIONS = 100;
/** The socket's file is `.s.PGSQL.<port>` in its directory, as libpq and `pg` look for it. */
const SOCKET_PORT = 5432;
/** Unix socket paths longer than this cannot be bound (sun_path is 108 bytes on Linux). */
const MAX_SOCKET_PATH = 107;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const dir = join(dataDir, options.name);
  const socketDir = join(dataDir, `${options.name}.socket`);
  const socketPath = join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
  if (socketPath.length > MAX_SOCKET_PATH)
    throw new Error(
      `embedded postgres: the socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes; set database.embedded_dir (MCP_DATABASE_EMBEDDED_DIR) to a shorter path`,
    );
  for (const path of [dataDir, dir, socketDir]) await privateDirectory(path);
  // a socket left by a process that died cannot be bound again
  await rm(socketPath, { force: true });

  const db = await PGlite.create({ dataDir: dir });
  let server: PGLiteSocketServer | undefined;
  try {
    for (const sql of options.initSql ?? []) await db.exec(sql);
    server = new PGLiteSocketServer({
      db,
      path: socketPath,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    });
    await server.start();
    await chmod(socketPath, 0o600);
    await restrictFiles(dir);
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }

  const running = server;
  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${encodeURIComponent(socketDir)}:${SOCKET_PORT}/postgres`,
    close() {
      closing ??= (async () => {
        try {
          await running.stop();
        } finally {
          // PGlite.close() takes the query lock, so a ROLLBACK queued by a detaching client runs first.
          await db.close();
          await restrictFiles(dir).catch(() => undefined);
        }
      })();
      return closing;
    },
  };
}

/** Creates the directory if needed and makes it 0700, whatever it was. */
async function privateDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

/** PGlite writes its files 0666: make every file 0600 and every directory 0700. */
async function restrictFiles(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await chmod(path, 0o700);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}
