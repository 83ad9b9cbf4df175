import {
  type Format,
  type ItemShape,
  normalizeItem,
  planWindow,
  shapeOf,
  type TruncationStrategy,
} from '@ctxvault/formats';
import { CountBatches, type CountItems } from './counting/count-batches.ts';
import type { ContextItem, RawItem } from './schemas.ts';

/** Items (with their text as sent) that can be read more than once (stored segments are opened again for each pass). */
export type ItemSource = () => AsyncIterable<RawItem> | Iterable<RawItem>;

export interface TokenBudget {
  max_tokens: number;
  strategy: TruncationStrategy;
}

export interface WindowOptions {
  /** the items' format: what keeps a truncated transcript valid depends on it */
  format: Format;
  /** keep only the last N items */
  last?: number;
  /** then drop items until the rest fit */
  budget?: TokenBudget;
}

/** The items a window keeps, and what it left out. */
export interface ItemWindow {
  items: AsyncIterable<RawItem>;
  /** items returned */
  returned: number;
  /** items left out (before `last`, or dropped by the budget) */
  dropped: number;
  /** items left out beyond what `last` or the budget asked, so the transcript stays valid for its provider */
  boundary_dropped: number;
  /** tokens of the items returned */
  tokens: number;
  /**
   * a tool result among the items answers no call before it among them: read as part of a longer
   * transcript, it may belong to a call before these items
   */
  reachesBack: boolean;
}

/**
 * Selects part of a sequence of items in two passes, so the items themselves are never all held:
 * the first pass reads only each item's shape (kind, tool call ids) and token count (counted in
 * batches while it reads) and plans
 * (`planWindow`), the second streams the kept items.
 */
export async function windowOf(
  source: ItemSource,
  countItems: CountItems,
  options: WindowOptions,
): Promise<ItemWindow> {
  const shapes: ItemShape[] = [];
  const counting = new CountBatches(countItems);
  const callIds = new Set<string>();
  let anyCall = false;
  let reachesBack = false;
  for await (const { item, text } of source()) {
    const shape = shapeOfItem(options.format, item);
    // as planWindow groups them: a result with an id joins the call with that id, else the last call
    const answered = (id: string) => (id === '' ? anyCall : callIds.has(id));
    if (!shape.results.every(answered) || (shape.kind === 'tool-result' && shape.results.length === 0 && !anyCall))
      reachesBack = true;
    for (const id of shape.calls) if (id !== '') callIds.add(id);
    anyCall ||= shape.calls.length > 0;
    shapes.push(shape);
    await counting.add(text);
  }
  const tokens = await counting.counts();
  const plan = planWindow(options.format, shapes, tokens, { last: options.last, budget: options.budget });
  async function* items(): AsyncGenerator<RawItem> {
    let index = 0;
    for await (const item of source()) if (plan.keep[index++]) yield item;
  }
  return {
    items: items(),
    returned: shapes.length - plan.dropped,
    dropped: plan.dropped,
    boundary_dropped: plan.boundaryDropped,
    tokens: plan.tokens,
    reachesBack,
  };
}

/** An item's shape; an item its format no longer accepts (stored before validation) counts as a plain turn. */
function shapeOfItem(format: Format, item: ContextItem): ItemShape {
  try {
    return shapeOf(normalizeItem(format, item));
  } catch {
    return { kind: 'assistant', calls: [], results: [] };
  }
}
