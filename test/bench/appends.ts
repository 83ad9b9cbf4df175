// One-item appends as `pnpm bench --only appends` measures them: the answer and `stored` of an
// append to contexts of very different sizes, what it adds to the bucket, the bytes written by a long
// run of appends (compactions included) against the context's final size, and a tail read of a large
// uncached context. The bare baselines run in the same process against the same services.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { contextPrefix } from '@ctxvault/storage';
import pg from 'pg';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AppendTimes {
  /** POST → answer, ms */
  ack: number[];
  /** POST → `stored` (the answer itself when the append was stored at once), ms */
  stored: number[];
}

/** One item, about `bytes` of JSON. */
export function oneItem(i: number, bytes = 200): { role: 'user' | 'assistant'; content: string } {
  return { role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'w'.repeat(Math.max(0, bytes - 40))}` };
}

async function waitStored(base: string, id: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${base}/api/v1/contexts/${id}/status`);
    const json = (await res.json()) as { status: string };
    if (json.status === 'stored') return;
    if (json.status === 'failed') throw new Error(`context ${id} failed`);
    await sleep(5);
  }
}

/** Waits until a worker has counted every token of the context: appends are timed on a settled one, not against the counting. */
export async function waitCounted(base: string, id: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${base}/api/v1/contexts/${id}/status`);
    if (((await res.json()) as { tokens_final: boolean }).tokens_final) return;
    await sleep(50);
  }
}

/** `count` one-item appends, one after the other, each timed to its answer and to `stored`. */
export async function timeAppends(base: string, id: string, count: number, first = 0): Promise<AppendTimes> {
  const times: AppendTimes = { ack: [], stored: [] };
  for (let i = first; i < first + count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/contexts/${id}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [oneItem(i)] }),
    });
    await res.arrayBuffer();
    const ack = performance.now() - t0;
    if (res.status !== 200 && res.status !== 202) throw new Error(`append answered ${res.status}`);
    if (res.status === 202) await waitStored(base, id);
    times.ack.push(ack);
    times.stored.push(performance.now() - t0);
  }
  return times;
}

/** The bytes of every object under `prefix`. */
export async function bucketBytes(client: S3Client, bucket: string, prefix = ''): Promise<number> {
  let total = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) total += object.Size ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  return total;
}

/**
 * Every byte a context's appends and compactions wrote and still hold: its segments' rows (inline
 * ones hold their items in Postgres; none are collected within the run, the grace is longer) and
 * the objects in the bucket.
 */
export async function writtenBytes(
  databaseUrl: string,
  client: S3Client,
  bucket: string,
  id: string,
): Promise<{ inline: number; objects: number; final: number }> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const inline = await db.query<{ n: string | null }>(
      `select sum(size_bytes) as n from segments where context_id = $1 and state = 'inline'`,
      [id],
    );
    const final = await db.query<{ n: string }>('select size_bytes as n from contexts where id = $1', [id]);
    return {
      inline: Number(inline.rows[0]?.n ?? 0),
      objects: await bucketBytes(client, bucket, contextPrefix('contexts', id)),
      final: Number(final.rows[0]?.n ?? 0),
    };
  } finally {
    await db.end();
  }
}

/** The bare baseline of an append: one row inserted by a Hono + pg server (bare-server.ts). */
export async function bareAppends(bareUrl: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${bareUrl}/sessions/bench-appends/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ ...oneItem(i), tokens: 50 }] }),
    });
    await res.arrayBuffer();
    out.push(performance.now() - t0);
  }
  return out;
}
