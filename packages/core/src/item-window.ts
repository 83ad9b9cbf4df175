import type { ContextItem } from './schemas.ts';
import { planTruncation, type TokenBudget } from './truncation.ts';

type Roled = Pick<ContextItem, 'role'>;

/** Items that can be read more than once (a stored body is opened again for each pass). */
export type ItemSource<T extends Roled> = () => AsyncIterable<T> | Iterable<T>;

export interface WindowOptions {
  /** keep only the last N items */
  last?: number;
  /** then drop items until the rest fit */
  budget?: TokenBudget;
}

/** The items a window keeps, and what it left out. */
export interface ItemWindow<T> {
  items: AsyncIterable<T>;
  /** items returned */
  returned: number;
  /** items left out (before `last`, or dropped by the budget) */
  dropped: number;
  /** tokens of the items returned */
  tokens: number;
}

/**
 * Selects part of a sequence of items in two passes, so the items themselves are never all held:
 * the first pass reads only roles and token counts and plans, the second streams the kept items.
 */
export async function windowOf<T extends Roled>(
  source: ItemSource<T>,
  countTokens: (item: T) => number,
  options: WindowOptions,
): Promise<ItemWindow<T>> {
  const roles: Pick<ContextItem, 'role'>[] = [];
  const tokens: number[] = [];
  for await (const item of source()) {
    roles.push({ role: item.role });
    tokens.push(countTokens(item));
  }
  const start = options.last === undefined ? 0 : Math.max(0, roles.length - options.last);
  const keep = roles.map((_, i) => i >= start);
  let kept = tokens.slice(start).reduce((sum, n) => sum + n, 0);
  if (options.budget) {
    const plan = planTruncation(roles.slice(start), tokens.slice(start), options.budget);
    for (const [i, k] of plan.keep.entries()) keep[start + i] = k;
    kept = plan.tokens;
  }
  const returned = keep.filter(Boolean).length;
  async function* items(): AsyncGenerator<T> {
    let index = 0;
    for await (const item of source()) if (keep[index++]) yield item;
  }
  return { items: items(), returned, dropped: roles.length - returned, tokens: kept };
}
