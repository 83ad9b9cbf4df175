import type { ContextItem, TruncationStrategy } from './schemas.ts';

export interface TokenBudget {
  max_tokens: number;
  strategy: TruncationStrategy;
}

/** What a truncation kept. */
export interface TruncationPlan {
  /** keep[i]: item i stays */
  keep: boolean[];
  /** tokens of the items kept */
  tokens: number;
  dropped: number;
}

/**
 * Decides which items to drop so that the rest fit in `max_tokens`.
 *
 * - `oldest_first`: drops items from the start, whatever their role, until the rest fit.
 * - `preserving_user`: never drops system items; drops the oldest assistant and tool items first,
 *   and only when that is not enough the oldest user items.
 *
 * Kept items stay in order. If the items that may not be dropped exceed the budget on their own,
 * the plan keeps them and `tokens` is over `max_tokens`.
 */
export function planTruncation(
  items: readonly Pick<ContextItem, 'role'>[],
  tokens: readonly number[],
  budget: TokenBudget,
): TruncationPlan {
  const keep = items.map(() => true);
  let total = tokens.reduce((sum, n) => sum + n, 0);
  let dropped = 0;
  const passes: ((role: ContextItem['role']) => boolean)[] =
    budget.strategy === 'oldest_first'
      ? [() => true]
      : [(role) => role === 'assistant' || role === 'tool', (role) => role === 'user'];
  for (const droppable of passes) {
    for (let i = 0; i < items.length && total > budget.max_tokens; i++) {
      if (!keep[i] || !droppable(items[i]!.role)) continue;
      keep[i] = false;
      total -= tokens[i]!;
      dropped++;
    }
  }
  return { keep, tokens: total, dropped };
}
