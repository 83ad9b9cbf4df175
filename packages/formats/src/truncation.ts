// Which items a window keeps so that the transcript stays valid for its provider.
import type { Format } from './format.ts';
import { callIds, type ItemKind, type NormalizedItem, resultIds } from './normalized.ts';
import { startsWithUser } from './registry.ts';

export const TRUNCATION_STRATEGIES = ['oldest_first', 'preserving_user'] as const;
export type TruncationStrategy = (typeof TRUNCATION_STRATEGIES)[number];

/** What truncation needs of an item: kept small, so a window plans over millions of items. */
export interface ItemShape {
  kind: ItemKind;
  calls: string[];
  results: string[];
}

/** A call answered inside its own item (an Anthropic server tool and its result block) pairs nothing else. */
export function shapeOf(item: NormalizedItem): ItemShape {
  const calls = callIds(item);
  const results = resultIds(item);
  return {
    kind: item.kind,
    calls: calls.filter((id) => !results.includes(id)),
    results: results.filter((id) => !calls.includes(id)),
  };
}

export interface WindowRequest {
  /** keep only the last N items (instructions before them are kept too) */
  last?: number;
  /** then drop items until the rest fit */
  budget?: { max_tokens: number; strategy: TruncationStrategy };
}

export interface TruncationPlan {
  /** keep[i]: item i stays */
  keep: boolean[];
  /** tokens of the items kept */
  tokens: number;
  dropped: number;
  /**
   * Items dropped beyond what the cut asked, to keep the transcript valid: the other half of a tool
   * call and its result, and turns before the first user turn where the provider needs one first.
   */
  boundaryDropped: number;
}

/**
 * Plans a window over items of `format`:
 * - instructions (system, developer) are always kept in a provider's format (`ctxvault` keeps
 *   today's rules: `last=N` is exactly the last N, `oldest_first` drops whatever comes first, and
 *   `preserving_user` keeps system items);
 * - a tool call and every item answering it form a group, kept or dropped whole (a result without an
 *   id answers the nearest call before it, as Gemini and legacy OpenAI function calls do);
 * - `last=N` starts at the Nth item from the end, moved forward past any group it would cut;
 * - a budget drops groups oldest first (`oldest_first`), or groups without a user turn first, then
 *   the rest (`preserving_user`), until the kept items fit;
 * - Anthropic and Gemini transcripts then start with a user turn: earlier groups are dropped too.
 * If the instructions alone exceed the budget, they are kept and `tokens` is over it.
 */
export function planWindow(
  format: Format,
  shapes: readonly ItemShape[],
  tokens: readonly number[],
  request: WindowRequest,
): TruncationPlan {
  const group = groupsOf(shapes);
  const keep = shapes.map(() => true);
  let total = tokens.reduce((sum, n) => sum + n, 0);
  let boundaryDropped = 0;
  // instructions stay, but in ctxvault's own format (where `oldest_first` and `last` may drop them)
  const fixed = (i: number) => shapes[i]!.kind === 'instruction' && format !== 'ctxvault';
  const members = new Map<number, number[]>();
  for (const [i, g] of group.entries()) if (!fixed(i)) members.set(g, [...(members.get(g) ?? []), i]);
  const dropGroup = (g: number): number => {
    let count = 0;
    for (const i of members.get(g) ?? []) {
      if (!keep[i]) continue;
      keep[i] = false;
      total -= tokens[i]!;
      count++;
    }
    return count;
  };

  if (request.last !== undefined) {
    const start = Math.max(0, shapes.length - request.last);
    for (let i = 0; i < start; i++) {
      if (fixed(i)) continue;
      keep[i] = false;
      total -= tokens[i]!;
    }
    // a group cut by the start lost members before it: its members after it go too
    for (let i = start; i < shapes.length; i++) {
      if (keep[i] && (members.get(group[i]!) ?? []).some((m) => !keep[m])) boundaryDropped += dropGroup(group[i]!);
    }
  }

  if (request.budget) {
    const { max_tokens: max, strategy } = request.budget;
    const passes: ((g: number) => boolean)[] =
      strategy === 'oldest_first'
        ? [() => true]
        : [
            (g) => !(members.get(g) ?? []).some((i) => shapes[i]!.kind === 'user' || shapes[i]!.kind === 'instruction'),
            (g) => !(members.get(g) ?? []).some((i) => shapes[i]!.kind === 'instruction'),
          ];
    for (const droppable of passes) {
      for (const [g, list] of members) {
        if (total <= max) break;
        if (!droppable(g) || !list.some((i) => keep[i])) continue;
        const needed = total - max;
        const first = list.find((i) => keep[i])!;
        const count = dropGroup(g);
        // companions dropped only because the group goes whole
        if (tokens[first]! >= needed) boundaryDropped += count - 1;
      }
    }
  }

  if (startsWithUser(format)) {
    for (let i = 0; i < shapes.length; i++) {
      if (!keep[i] || shapes[i]!.kind === 'instruction') continue;
      if (shapes[i]!.kind === 'user') break;
      boundaryDropped += dropGroup(group[i]!);
    }
  }
  return { keep, tokens: total, dropped: keep.filter((k) => !k).length, boundaryDropped };
}

/** Each item's group: the index of the first item of the tool call group it belongs to (else its own). */
function groupsOf(shapes: readonly ItemShape[]): number[] {
  const parent = shapes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const union = (a: number, b: number) => {
    const [x, y] = [find(a), find(b)];
    if (x !== y) parent[Math.max(x, y)] = Math.min(x, y);
  };
  const caller = new Map<string, number>();
  let lastCaller = -1;
  for (const [i, shape] of shapes.entries()) {
    for (const id of shape.results) {
      const from = id === '' ? undefined : caller.get(id);
      if (from !== undefined) union(from, i);
      else if (lastCaller >= 0) union(lastCaller, i);
    }
    if (shape.kind === 'tool-result' && shape.results.length === 0 && lastCaller >= 0) union(lastCaller, i);
    for (const id of shape.calls) if (id !== '') caller.set(id, i);
    if (shape.calls.length > 0) lastCaller = i;
  }
  return shapes.map((_, i) => find(i));
}
