// The two embedded instances `ctxvault start` runs when nothing is installed: one for the app tables,
// one for the BullMQ PostgreSQL backend. They must be separate instances: PGlite serves every wire
// connection from one session, and MikroORM and BullMQ interleaving extended-protocol messages on the
// same instance breaks it (electric-sql/pglite#1046).
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

export interface EmbeddedDatabases {
  appUrl: string;
  queueUrl: string;
  /** Closes both instances; idempotent. Errors are reported after both were attempted. */
  close(): Promise<void>;
}

// BullMQ pins its schema with a `-c search_path=bullmq` startup option, which PGlite's socket server
// ignores; setting it on the (single, shared) session does the same job.
const QUEUE_INIT_SQL = ['CREATE SCHEMA IF NOT EXISTS bullmq', 'SET search_path TO public, bullmq'];

export async function startEmbeddedDatabases(dataDir: string): Promise<EmbeddedDatabases> {
  // One after the other: PGlite runs on this thread, so starting them side by side gains nothing.
  const app = await startEmbeddedPostgres({ dataDir, name: 'app' });
  let queue: EmbeddedPostgres;
  try {
    queue = await startEmbeddedPostgres({ dataDir, name: 'queue', initSql: QUEUE_INIT_SQL });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    appUrl: app.url,
    queueUrl: queue.url,
    close() {
      closing ??= closeBoth(app, queue);
      return closing;
    },
  };
}

async function closeBoth(app: EmbeddedPostgres, queue: EmbeddedPostgres): Promise<void> {
  const errors: unknown[] = [];
  try {
    await queue.close();
  } catch (err) {
    errors.push(err);
  }
  try {
    await app.close();
  } catch (err) {
    errors.push(err);
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'embedded postgres: closing failed');
}
