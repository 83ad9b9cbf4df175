// The agent's turn loop, as `pnpm bench --only turns` drives it: every simulated session reads its
// recent window (the last 20 items, or an 8k-token budget) and appends one user and one assistant
// item, again and again, many sessions at once. The same loop runs against ctxvault's API and
// against the row-per-message baseline of bare-server.ts, and what each leaves behind (Postgres
// rows and bytes) is measured the same way.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { CorpusItem } from './corpus.ts';

/** A store the loop can run against. */
export interface TurnStore {
  /** creates a session holding `items`; resolves with its handle once it is readable */
  seed(items: CorpusItem[], index: number): Promise<string>;
  /** one turn: read the window (`query`, e.g. `last=20`), then append `items` */
  turn(session: string, index: number, query: string, items: CorpusItem[]): Promise<void>;
}

export interface TurnResult {
  turns: number;
  secs: number;
  turnsPerSec: number;
  p50: number;
  p99: number;
}

async function expectStatus(res: Response, allowed: number[], what: string): Promise<void> {
  const body = await res.arrayBuffer();
  if (!allowed.includes(res.status)) {
    throw new Error(`${what} answered ${res.status}: ${Buffer.from(body).toString().slice(0, 300)}`);
  }
}

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Sends again after `Retry-After` while the answer is 503 (e.g. staging_busy), as a client would. */
async function retryingBusy(send: () => Promise<Response>): Promise<Response> {
  for (;;) {
    const res = await send();
    const retryAfter = Number(res.headers.get('retry-after'));
    if (res.status !== 503 || !retryAfter) return res;
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
  }
}

/** ctxvault: a session is a context; its turns spread over the API processes at `baseUrls`. */
export function ctxvaultStore(baseUrls: string[], waitStored: (base: string, id: string) => Promise<void>): TurnStore {
  const base = (index: number) => baseUrls[index % baseUrls.length]!;
  return {
    seed: async (items, index) => {
      const res = await postJson(`${base(index)}/api/v1/contexts`, {
        agent_id: 'bench-turns',
        session_id: `session-${index}`,
        content: items,
      });
      const json = (await res.json()) as { id: string };
      if (res.status !== 201 && res.status !== 202) throw new Error(`seed answered ${res.status}`);
      if (res.status === 202) await waitStored(base(index), json.id);
      return json.id;
    },
    turn: async (id, index, query, items) => {
      await expectStatus(await fetch(`${base(index)}/api/v1/contexts/${id}?${query}`), [200], 'window read');
      const append = () => postJson(`${base(index)}/api/v1/contexts/${id}/items`, { items });
      await expectStatus(await retryingBusy(append), [200, 202], 'append');
    },
  };
}

/** The row-per-message baseline (bare-server.ts). */
export function bareStore(baseUrl: string): TurnStore {
  return {
    seed: async (items, index) => {
      const session = `session-${index}`;
      // in slices, as a client would send a long history, and to keep each request small
      for (let i = 0; i < items.length; i += 500) {
        const res = await postJson(`${baseUrl}/sessions/${session}/messages`, { messages: items.slice(i, i + 500) });
        await expectStatus(res, [201], 'bare seed');
      }
      return session;
    },
    turn: async (session, _index, query, items) => {
      await expectStatus(await fetch(`${baseUrl}/sessions/${session}/messages?${query}`), [200], 'bare read');
      await expectStatus(
        await postJson(`${baseUrl}/sessions/${session}/messages`, { messages: items }),
        [201],
        'bare append',
      );
    },
  };
}

/** Seeds `count` sessions, `parallel` at a time. */
export async function seedSessions(
  store: TurnStore,
  count: number,
  items: CorpusItem[],
  parallel: number,
): Promise<string[]> {
  const sessions: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        sessions[i] = await store.seed(items, i);
      }
    }),
  );
  return sessions;
}

/**
 * Every session runs turns back to back (no think time) for `durationMs`; a turn's latency is its
 * read plus its append. `turnItems(n)` gives the two items of the n-th turn.
 */
export async function runTurns(
  store: TurnStore,
  sessions: string[],
  durationMs: number,
  query: string,
  turnItems: (n: number) => CorpusItem[],
): Promise<TurnResult> {
  const latencies: number[] = [];
  let n = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    sessions.map(async (session, index) => {
      while (performance.now() < deadline) {
        const s = performance.now();
        await store.turn(session, index, query, turnItems(n++));
        latencies.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? NaN;
  return { turns: latencies.length, secs, turnsPerSec: latencies.length / secs, p50: at(0.5), p99: at(0.99) };
}

/** Rows and bytes (tables, indexes and TOAST: pg_total_relation_size) of every table in `public`. */
export async function postgresFootprint(databaseUrl: string): Promise<{ rows: number; bytes: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string; bytes: string }>(
      `select quote_ident(tablename) as name, pg_total_relation_size(format('public.%I', tablename)) as bytes
         from pg_tables where schemaname = 'public'`,
    );
    let rows = 0;
    for (const t of tables) {
      const { rows: counted } = await client.query<{ n: number }>(`select count(*)::int as n from public.${t.name}`);
      rows += counted[0]!.n;
    }
    return { rows, bytes: tables.reduce((sum, t) => sum + Number(t.bytes), 0) };
  } finally {
    await client.end();
  }
}
