// A counting thread of WorkerTokenCounter: loads gpt-tokenizer's encodings on first use and counts
// batches of items (their stored JSON text). Plain erasable TypeScript: Node runs it without a loader.

import { parentPort } from 'node:worker_threads';
import type { Format } from '@ctxvault/formats';
import { itemTexts } from './item-lines.ts';
import { type CountText, countItemTokens, type ItemCount } from './item-tokens.ts';
import type { MediaPricing } from './media-tokens.ts';

export interface CountTask {
  id: number;
  encoding: string;
  format: Format;
  pricing: MediaPricing;
  /** the items' texts, or their lines as bytes (each ending with a newline), split here */
  items: readonly string[] | Uint8Array;
}

export type CountReply = { id: number; counts: ItemCount[] } | { id: number; error: string };

const encodings = new Map<string, Promise<CountText>>();

function encoding(name: string): Promise<CountText> {
  let loading = encodings.get(name);
  if (!loading) {
    loading = import(`gpt-tokenizer/encoding/${name}`).then((module: { countTokens: CountText }) => module.countTokens);
    encodings.set(name, loading);
  }
  return loading;
}

parentPort?.on('message', async (task: CountTask) => {
  let reply: CountReply;
  try {
    const countText = await encoding(task.encoding);
    const items = task.items instanceof Uint8Array ? itemTexts(task.items) : task.items;
    reply = {
      id: task.id,
      counts: items.map((text) => countItemTokens(JSON.parse(text), task.format, countText, task.pricing)),
    };
  } catch (err) {
    reply = { id: task.id, error: (err as Error).message ?? String(err) };
  }
  parentPort?.postMessage(reply);
});
