// A counting thread of WorkerTokenCounter: loads the encodings (piece-counter.ts) on first use and counts
// batches of items (their stored JSON text). Plain erasable TypeScript: Node runs it without a loader.

import { parentPort } from 'node:worker_threads';
import type { Format } from '@ctxvault/formats';
import type { EncodingName } from 'gpt-tokenizer/mapping';
import { itemTexts } from './item-lines.ts';
import { type CountText, countItemTokens, type ItemCount } from './item-tokens.ts';
import type { MediaPricing } from './media-tokens.ts';
import { loadPieceCounter } from './piece-counter.ts';

export interface CountTask {
  id: number;
  encoding: EncodingName;
  format: Format;
  pricing: MediaPricing;
  /** the items' texts, or their lines as bytes (each ending with a newline), split here */
  items: readonly string[] | Uint8Array;
}

export type CountReply = { id: number; counts: ItemCount[] } | { id: number; error: string };

const encodings = new Map<EncodingName, Promise<CountText>>();

function encoding(name: EncodingName): Promise<CountText> {
  let loading = encodings.get(name);
  if (!loading) {
    loading = loadPieceCounter(name).then((counter) => counter.count);
    encodings.set(name, loading);
  }
  return loading;
}

parentPort?.on('message', async (task: CountTask) => {
  let reply: CountReply;
  try {
    const countText = await encoding(task.encoding);
    const counts: ItemCount[] = [];
    for (const text of task.items instanceof Uint8Array ? itemTexts(task.items) : task.items)
      counts.push(countItemTokens(JSON.parse(text), task.format, countText, task.pricing));
    reply = { id: task.id, counts };
  } catch (err) {
    reply = { id: task.id, error: (err as Error).message ?? String(err) };
  }
  parentPort?.postMessage(reply);
});
