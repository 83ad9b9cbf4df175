import type { Segment, SegmentIndex } from '@ctxvault/db';
import { CountBatches, type CountItems, keptCounter } from './counting/count-batches.ts';
import { readU32s } from './item-index.ts';
import { type ItemSource, type ItemWindow, windowOf } from './item-window.ts';
import type { SegmentLookups } from './ports.ts';
import { parseRawItem, type RawItem } from './raw-items.ts';
import { splitLines } from './segment-format.ts';
import type { SegmentReader } from './segment-reader.ts';

/** What a tail read streams (item lines, as stored) and what it left out. */
export interface SegmentWindow {
  lines: AsyncIterable<Buffer>;
  returned: number;
  dropped: number;
  tokens: number;
}

interface Candidate {
  seg: Segment;
  /** items of the segment before the window */
  skip: number;
}

/**
 * `last=N` of a `ctxvault` context, planned from the segments' counts and item index: only the tail
 * segments holding the last N items are read (from the first kept item's offset). Token budgets and
 * provider formats need each item's shape (tool calls and their results kept together), so they
 * read the items instead (`windowOf`). Only segments whose tokens a worker has not counted yet (or
 * stored before the index existed) are read and counted here.
 */
export async function tailWindow(
  segs: readonly Segment[],
  store: Pick<SegmentLookups, 'loadIndex'>,
  reader: SegmentReader,
  countItems: CountItems,
  last: number,
): Promise<SegmentWindow> {
  const total = segs.reduce((sum, s) => sum + s.item_count, 0);
  const start = Math.max(0, total - last);
  const candidates: Candidate[] = [];
  let seen = 0;
  for (const seg of segs) {
    if (seen + seg.item_count > start) candidates.push({ seg, skip: Math.max(0, start - seen) });
    seen += seg.item_count;
  }
  const index = await store.loadIndex(candidates.filter(({ seg }) => indexed(seg)).map(({ seg }) => seg.id));
  let tokens = 0;
  for (const { seg, skip } of candidates) {
    tokens +=
      skip === 0 && seg.tokens_final
        ? seg.token_count
        : (await tokensOf(seg, skip, index.get(seg.id), reader, countItems)).reduce((sum, n) => sum + n, 0);
  }
  return {
    lines: reader.lines(
      candidates.map((c) => c.seg),
      candidates[0]?.skip ?? 0,
    ),
    returned: total - start,
    dropped: start,
    tokens,
  };
}

/** Items of the tail read at most this many bytes of text are held for the window's second pass, not read twice. */
const REPLAY_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A token budget (`oldest_first`) over a `ctxvault` context, planned over its tail only: the
 * shortest run of last items holding more than `maxTokens` tokens (from the per-segment and
 * per-item counts the workers keep), so everything before it would be dropped anyway. Null when
 * the counts are not all final, or when a tool result in the tail has no call before it among the
 * tail items while an earlier segment may hold calls (its group may reach back): then the caller
 * plans over every item.
 */
export async function budgetWindow(
  segs: readonly Segment[],
  store: Pick<SegmentLookups, 'loadIndex'>,
  reader: SegmentReader,
  maxTokens: number,
): Promise<ItemWindow | null> {
  let start = segs.length;
  let tailTokens = 0;
  while (start > 0 && tailTokens <= maxTokens) {
    const seg = segs[start - 1]!;
    if (!seg.tokens_final || seg.format !== 'lines') return null;
    tailTokens += seg.token_count;
    start--;
  }
  const chosen = segs.slice(start);
  const index = await store.loadIndex(chosen.filter(indexed).map((s) => s.id));
  const counts: number[][] = [];
  for (const seg of chosen) {
    const kept = index.get(seg.id)?.item_tokens;
    if (seg.item_count > 0 && !kept) return null;
    counts.push(kept ? readU32s(kept) : []);
  }
  // within the first segment, skip the items the rest still exceeds the budget without
  let skip = 0;
  const first = counts[0] ?? [];
  while (tailTokens > maxTokens && skip < first.length && tailTokens - first[skip]! > maxTokens) {
    tailTokens -= first[skip]!;
    skip++;
  }
  const tokens = [...first.slice(skip), ...counts.slice(1).flat()];
  const before = segs.slice(0, start).reduce((sum, s) => sum + s.item_count, 0) + skip;
  const window = await windowOf(
    replayable(() => parsedItems(reader.lines(chosen, skip))),
    keptCounter(tokens),
    { format: 'ctxvault', budget: { max_tokens: maxTokens, strategy: 'oldest_first' } },
  );
  // a result with no call among the tail items joins, in a plan over every item, a call before them, if any
  const earlier = segs.slice(0, skip > 0 ? start + 1 : start);
  if (window.reachesBack && !earlier.every((s) => s.has_calls === false)) return null;
  return { ...window, dropped: window.dropped + before };
}

/** Item lines back into items. */
export async function* parsedItems(lines: AsyncIterable<Buffer>): AsyncGenerator<RawItem> {
  for await (const line of splitLines(lines)) yield parseRawItem(line);
}

/** A source read once and replayed from memory, unless its items' text exceeds REPLAY_MAX_BYTES (then read again). */
function replayable(open: () => AsyncIterable<RawItem>): ItemSource {
  let held: RawItem[] | null = null;
  return () =>
    held ??
    (async function* () {
      const seen: RawItem[] = [];
      let bytes = 0;
      let holding = true;
      for await (const item of open()) {
        if (holding) {
          bytes += item.text.length;
          holding = bytes <= REPLAY_MAX_BYTES;
          if (holding) seen.push(item);
          else seen.length = 0;
        }
        yield item;
      }
      if (holding) held = seen;
    })();
}

function indexed(seg: Segment): boolean {
  return seg.format === 'lines' && seg.item_count > 0;
}

/** Token counts of a segment's items from item `skip`: from its index, or else by reading them. */
async function tokensOf(
  seg: Segment,
  skip: number,
  index: SegmentIndex | undefined,
  reader: SegmentReader,
  countItems: CountItems,
): Promise<number[]> {
  if (index?.item_tokens && seg.tokens_final) return readU32s(index.item_tokens).slice(skip);
  const counting = new CountBatches(countItems);
  for await (const line of splitLines(reader.lines([seg], skip))) await counting.add(line.toString('utf8'));
  return counting.counts();
}
