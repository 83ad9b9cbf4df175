// The bare baselines the benchmark compares ctxvault's API with, run as their own process like the
// API: a Hono handler (@hono/node-server) that inserts one row with `pg` into a scratch table, and
// one that returns a 64 KiB buffer. Usage: tsx bare-server.ts <port> <database url>

import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';

const [portArg, databaseUrl] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query(
  'create table if not exists bench_scratch (id bigserial primary key, agent_id text not null, body jsonb not null, created_at timestamptz not null default now())',
);
const buffer = Buffer.alloc(64 * 1024, 'x');

const app = new Hono();
app.post('/insert', async (c) => {
  const body = await c.req.json<{ agent_id: string }>();
  const { rows } = await pool.query('insert into bench_scratch (agent_id, body) values ($1, $2) returning id', [
    body.agent_id,
    body,
  ]);
  return c.json({ id: rows[0].id }, 201);
});
app.get('/buffer', (c) => c.body(buffer, 200, { 'content-type': 'application/octet-stream' }));

const server = serve({ fetch: app.fetch, port: Number(portArg), hostname: '127.0.0.1' }, () => {
  console.log('bare server listening');
});
const stop = () => {
  server.close();
  void pool.end().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
