import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  let started: EmbeddedPostgres[];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ctxvault-embedded-'));
    started = [];
  });

  afterEach(async () => {
    for (const db of started) await db.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(initSql?: string[]): Promise<EmbeddedPostgres> {
    const db = await startEmbeddedPostgres({ dataDir, name: 'app', initSql });
    started.push(db);
    return db;
  }

  it('serves a postgres:// URL on a Unix socket in a private directory, its files 0600', async () => {
    const db = await start();
    const socketDir = join(dataDir, 'app.socket');
    expect(db.url).toBe(`postgres://postgres@${encodeURIComponent(socketDir)}:5432/postgres`);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(socketDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(socketDir, '.s.PGSQL.5432'))).isSocket()).toBe(true);
    const files = (await readdir(join(dataDir, 'app'), { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect((await stat(join(file.parentPath, file.name))).mode & 0o077).toBe(0);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT 1 + 1 AS n');
    await client.end();
    expect(rows[0]?.n).toBe(2);
  });

  it('persists data across restarts on the same directory', async () => {
    const first = await start();
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE note (id int PRIMARY KEY, body text NOT NULL)');
    await client.query('INSERT INTO note (id, body) VALUES ($1, $2)', [1, 'kept']);
    await client.end();
    await first.close();

    const second = await start();
    const again = new pg.Client({ connectionString: second.url });
    await again.connect();
    const { rows } = await again.query<{ body: string }>('SELECT body FROM note WHERE id = 1');
    await again.end();
    expect(rows).toEqual([{ body: 'kept' }]);
  });

  it('runs initSql before serving, on the session every client shares', async () => {
    const db = await start(['CREATE SCHEMA IF NOT EXISTS extra', 'SET search_path TO public, extra']);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE extra.t (x int)');
    await client.query('INSERT INTO t VALUES (7)'); // resolved through the search_path set by initSql
    const { rows } = await client.query<{ x: number }>('SELECT x FROM t');
    await client.end();
    expect(rows).toEqual([{ x: 7 }]);
  });

  it('answers several concurrent connections', async () => {
    const db = await start();
    const pool = new pg.Pool({ connectionString: db.url, max: 5 });
    try {
      await pool.query('CREATE TABLE hit (n int NOT NULL)');
      const clients = await Promise.all(Array.from({ length: 5 }, () => pool.connect()));
      try {
        await Promise.all(
          clients.map(async (c, i) => {
            for (let j = 0; j < 20; j++) await c.query('INSERT INTO hit (n) VALUES ($1)', [i * 100 + j]);
          }),
        );
      } finally {
        for (const c of clients) c.release();
      }
      const { rows } = await pool.query<{ count: string }>('SELECT count(*) FROM hit');
      expect(rows[0]?.count).toBe('100');
    } finally {
      await pool.end();
    }
  });

  it('close() is idempotent', async () => {
    const db = await start();
    await Promise.all([db.close(), db.close()]);
    await db.close();
    const client = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 2000 });
    await expect(client.connect()).rejects.toThrow();
  });
});
