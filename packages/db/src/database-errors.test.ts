// The database failures the API answers 503 for, classified from what the ORM and pg really throw:
// a port nobody listens on, a server that hangs up at once, a database that does not exist; a query
// the server refuses for its own reasons is not one of them.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../../test/helpers/database.ts';
import { failureOf } from '../../../test/helpers/failure.ts';
import { createFileDatabase } from '../../../test/helpers/file-database.ts';
import { freePort } from '../../../test/helpers/processes.ts';
import { databaseUnavailableCause } from './database-errors.ts';
import { createOrm } from './orm.ts';
import { StagingRepository } from './staging-repository.ts';

let db: TestDatabase;
let hangUp: Server;
let hangUpUrl: string;
const orms: MikroORM[] = [];

beforeAll(async () => {
  db = await createFileDatabase();
  // accepts connections and closes them at once: pg's "connection terminated", a plain Error
  hangUp = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
  hangUpUrl = `postgres://postgres@127.0.0.1:${(hangUp.address() as { port: number }).port}/ctxvault`;
});
afterAll(async () => {
  for (const orm of orms) await orm.close().catch(() => {});
  hangUp?.close();
  await db?.drop();
});

async function orm(url: string): Promise<MikroORM> {
  const opened = await createOrm({ url, poolMax: 1 });
  orms.push(opened);
  return opened;
}

describe('databaseUnavailableCause', () => {
  it('a port nobody listens on: connection_refused, through the ORM and from pg itself', async () => {
    const url = `postgres://postgres@127.0.0.1:${await freePort()}/ctxvault`;
    const viaOrm = await failureOf(async () => (await orm(url)).em.fork().execute('select 1'));
    expect(databaseUnavailableCause(viaOrm)).toBe('connection_refused');
    const client = new pg.Client({ connectionString: url });
    expect(databaseUnavailableCause(await failureOf(() => client.connect()))).toBe('connection_refused');
  });

  it('a server that hangs up: connection_failure, through the ORM and through the staging', async () => {
    const hungUp = await orm(hangUpUrl);
    expect(databaseUnavailableCause(await failureOf(() => hungUp.em.fork().execute('select 1')))).toBe(
      'connection_failure',
    );
    const staging = new StagingRepository(hungUp, { chunkSize: 1024, maxConcurrent: 1, bodyTimeoutMs: 1000 });
    const err = await failureOf(() => staging.exists('0190a7a0-0000-7000-8000-000000000000', 1));
    // pg's own error is a plain Error: the staging hands it on as the ORM's DriverException
    expect(databaseUnavailableCause(err)).toBe('connection_failure');
  });

  it('a database that does not exist: no_such_database (the server answers 3D000)', async () => {
    // pg's own connection: MikroORM would create the database (its ensureDatabase)
    const missing = new URL(db.url);
    missing.pathname = `/ctxvault_missing_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: missing.toString() });
    expect(databaseUnavailableCause(await failureOf(() => client.connect()))).toBe('no_such_database');
  });

  it('a query the server refuses, and errors of other kinds, are not the database being unavailable', async () => {
    const working = await orm(db.url);
    expect(await working.em.fork().execute('select 1 as one')).toEqual([{ one: 1 }]);
    expect(databaseUnavailableCause(await failureOf(() => working.em.fork().execute('select from nowhere')))).toBe(
      null,
    );
    const staging = new StagingRepository(working, { chunkSize: 1024, maxConcurrent: 1, bodyTimeoutMs: 1000 });
    // a value the server refuses (not a UUID) through the staging's pg calls is not one either
    expect(databaseUnavailableCause(await failureOf(() => staging.exists('not-a-uuid', 1)))).toBe(null);
    expect(databaseUnavailableCause(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(null);
    expect(databaseUnavailableCause(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(null);
  });
});
