// The bare baselines the benchmark compares ctxvault's API with, run as their own process like the
// API: a Hono handler (@hono/node-server) that inserts one row with `pg` into a scratch table, one
// that returns a 64 KiB buffer, and a row-per-message store (what Letta, Zep or a plain Postgres
// table do): one row per message, the last N or a token budget read newest-first by an index.
// Usage: tsx bare-server.ts <port> <database url>

import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';

const [portArg, databaseUrl] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query(
  'create table if not exists bench_scratch (id bigserial primary key, agent_id text not null, body jsonb not null, created_at timestamptz not null default now())',
);
await pool.query(
  'create table if not exists bench_messages (session_id text not null, seq bigserial, role text not null, content text not null, tokens int not null, primary key (session_id, seq))',
);
const buffer = Buffer.alloc(64 * 1024, 'x');

interface Message {
  role: string;
  content: string;
  tokens: number;
}

const app = new Hono();
app.post('/insert', async (c) => {
  const body = await c.req.json<{ agent_id: string }>();
  const { rows } = await pool.query('insert into bench_scratch (agent_id, body) values ($1, $2) returning id', [
    body.agent_id,
    body,
  ]);
  return c.json({ id: rows[0].id }, 201);
});
app.post('/sessions/:id/messages', async (c) => {
  const { messages } = await c.req.json<{ messages: Message[] }>();
  await pool.query(
    'insert into bench_messages (session_id, role, content, tokens) select $1, * from unnest($2::text[], $3::text[], $4::int[])',
    [c.req.param('id'), messages.map((m) => m.role), messages.map((m) => m.content), messages.map((m) => m.tokens)],
  );
  return c.json({ appended: messages.length }, 201);
});
// ?last=N: the newest N rows; ?max_tokens=T: the newest rows whose tokens add up to at most T, read
// newest-first by the index in pages until the budget is spent
app.get('/sessions/:id/messages', async (c) => {
  const session = c.req.param('id');
  const last = Number(c.req.query('last') ?? 0);
  const page = (before: string, limit: number) =>
    pool.query<Message & { seq: string }>(
      'select seq, role, content, tokens from bench_messages where session_id = $1 and seq < $2 order by seq desc limit $3',
      [session, before, limit],
    );
  if (last) return c.json({ messages: (await page('9223372036854775807', last)).rows.reverse() });
  let budget = Number(c.req.query('max_tokens') ?? 0);
  const kept: Message[] = [];
  for (let before = '9223372036854775807'; ; ) {
    const { rows } = await page(before, 64);
    for (const row of rows) {
      if (row.tokens > budget) return c.json({ messages: kept.reverse() });
      budget -= row.tokens;
      kept.push(row);
    }
    if (rows.length < 64) return c.json({ messages: kept.reverse() });
    before = rows.at(-1)!.seq;
  }
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
