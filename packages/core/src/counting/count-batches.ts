import type { Format } from '@ctxvault/formats';
import type { TokenCounter } from '../token-counter.ts';

/** The token counts of items of one context (their stored JSON text), in the items' order. */
export type CountItems = (texts: readonly string[]) => Promise<number[]>;

/** `counter` bound to a context's model and format. */
export function itemsCounter(counter: TokenCounter, modelId: string | null, format: Format): CountItems {
  return async (texts) =>
    texts.length === 0 ? [] : (await counter.count(modelId, texts, format)).map((c) => c.tokens);
}

/**
 * Counts that are known already (kept by the workers), handed out in order across calls; items
 * beyond them are counted by `rest`, or count 0 without it.
 */
export function keptCounter(kept: readonly number[], rest?: CountItems): CountItems {
  let next = 0;
  return async (texts) => {
    const known = kept.slice(next, next + texts.length);
    next += texts.length;
    if (known.length === texts.length) return known;
    const missing = texts.slice(known.length);
    return [...known, ...(rest ? await rest(missing) : missing.map(() => 0))];
  };
}

/** Text handed to one counting call: large enough to be worth a trip to a counting thread. */
const BATCH_CHARS = 1024 * 1024;
/** Batches counted at once before `add` waits: bounds the text held while the counters catch up. */
const MAX_IN_FLIGHT = 4;

/**
 * Items counted as they are read: a batch is sent to `count` (a counting thread) as soon as it
 * holds BATCH_CHARS of text, while reading goes on; `counts()` gives every count, in order.
 */
export class CountBatches {
  private readonly started: Promise<number[]>[] = [];
  private awaited = 0;
  private batch: string[] = [];
  private chars = 0;

  constructor(private readonly count: CountItems) {}

  async add(text: string): Promise<void> {
    this.batch.push(text);
    this.chars += text.length;
    if (this.chars >= BATCH_CHARS) await this.flush();
  }

  async counts(): Promise<number[]> {
    await this.flush();
    return (await Promise.all(this.started)).flat();
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const counting = this.count(this.batch);
    // a failure is seen where the batch is awaited (below or in counts()), not as an unhandled rejection before
    counting.catch(() => {});
    this.started.push(counting);
    this.batch = [];
    this.chars = 0;
    if (this.started.length - this.awaited > MAX_IN_FLIGHT) await this.started[this.awaited++];
  }
}
