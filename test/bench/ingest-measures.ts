// Pieces of the `ingest` and `tokens` sections of `pnpm bench`: what the API's event loop went
// through, an image-holding create, and token counting on one thread against the worker pool.
import { availableParallelism } from 'node:os';
import { InlineTokenCounter, LineCounting, type TokenCounter, WorkerTokenCounter } from '@ctxvault/core';
import { randomPng } from '../helpers/images.ts';

/**
 * The API's event-loop delay max since the previous call, in ms: prom-client's
 * `nodejs_eventloop_lag_max_seconds` (a `monitorEventLoopDelay` histogram, reset on every scrape of
 * /metrics), so a scrape before a measurement starts it and one after reads it.
 */
export async function eventLoopMaxMs(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = /^nodejs_eventloop_lag_max_seconds\s+([0-9.eE+-]+)$/m.exec(text);
  if (!match) throw new Error('the API exposes no nodejs_eventloop_lag_max_seconds');
  return Number(match[1]) * 1000;
}

/**
 * A create holding one Anthropic base64 image block of about `bytes` (of base64): a 4000 × 3000 PNG
 * header followed by random data, the worst case for a tokenizer that would take it as text.
 */
export function imageCreateBody(bytes: number): string {
  const image = randomPng(4000, 3000, Math.floor((bytes * 3) / 4));
  return JSON.stringify({
    agent_id: 'bench-image',
    model_id: 'claude-sonnet-4',
    content: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: image.toString('base64') } },
        ],
      },
    ],
  });
}

/** Polls `/healthz` every 50 ms until stopped: how many answered and the slowest answer, in ms. */
export function pollHealth(base: string): { stop(): Promise<{ answered: number; failed: number; maxMs: number }> } {
  let running = true;
  const result = { answered: 0, failed: 0, maxMs: 0 };
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.ok) result.answered++;
        else result.failed++;
      } catch {
        result.failed++;
      }
      result.maxMs = Math.max(result.maxMs, performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return result;
    },
  };
}

/** MiB/s of counting `items` (stored JSON texts) on the calling thread, after a warm-up that loads the encoding. */
async function inlineSpeed(counter: TokenCounter, items: string[]): Promise<number> {
  await counter.count('gpt-4o', items.slice(0, 50));
  const bytes = items.reduce((sum, item) => sum + item.length, 0);
  const started = performance.now();
  await counter.count('gpt-4o', items);
  return bytes / 2 ** 20 / ((performance.now() - started) / 1000);
}

/**
 * MiB/s of counting the item lines of `ndjson` on the worker pool as the worker counts a staged
 * segment (LineCounting: 64 KiB pieces in, runs of whole lines to the threads), after a warm-up
 * that loads the encoding in every thread.
 */
async function poolSpeed(pool: WorkerTokenCounter, threads: number, ndjson: Buffer): Promise<number> {
  const lines = ndjson.subarray(ndjson.indexOf(0x0a) + 1);
  const first = lines.subarray(0, lines.indexOf(0x0a) + 1);
  await Promise.all(Array.from({ length: threads }, () => pool.countLines('gpt-4o', first)));
  const started = performance.now();
  const counting = new LineCounting(pool, 'gpt-4o', 'ctxvault');
  for (let at = 0; at < lines.length; at += 64 * 1024) await counting.push(lines.subarray(at, at + 64 * 1024));
  await counting.counts();
  return lines.length / 2 ** 20 / ((performance.now() - started) / 1000);
}

/** Token counting MiB/s of the NDJSON corpus's items, on the calling thread and on the worker pool. */
export async function tokenCountingSpeeds(ndjson: Buffer): Promise<{ single: number; pool: number; threads: number }> {
  const items = ndjson.toString('utf8').split('\n').slice(1).filter(Boolean);
  const settings = { encoding: 'auto', defaultEncoding: 'o200k_base' } as const;
  const single = await inlineSpeed(new InlineTokenCounter(settings), items);
  const threads = availableParallelism();
  const pool = new WorkerTokenCounter(settings, { threads });
  try {
    return { single, pool: await poolSpeed(pool, threads, ndjson), threads };
  } finally {
    await pool.close();
  }
}
