import type { Segment, SegmentIndex } from '@ctxvault/db';
import { readU32s } from './item-index.ts';
import type { SegmentStore } from './ports.ts';
import { parseRawItem } from './raw-items.ts';
import { splitLines } from './segment-format.ts';
import type { SegmentReader } from './segment-reader.ts';
import type { ItemTokenCounter } from './tokens.ts';

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
  store: SegmentStore,
  reader: SegmentReader,
  countTokens: ItemTokenCounter,
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
        : (await tokensOf(seg, skip, index.get(seg.id), reader, countTokens)).reduce((sum, n) => sum + n, 0);
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

function indexed(seg: Segment): boolean {
  return seg.format === 'lines' && seg.item_count > 0;
}

/** Token counts of a segment's items from item `skip`: from its index, or else by reading them. */
async function tokensOf(
  seg: Segment,
  skip: number,
  index: SegmentIndex | undefined,
  reader: SegmentReader,
  countTokens: ItemTokenCounter,
): Promise<number[]> {
  if (index?.item_tokens && seg.tokens_final) return readU32s(index.item_tokens).slice(skip);
  const tokens: number[] = [];
  for await (const line of splitLines(reader.lines([seg], skip))) tokens.push(countTokens(parseRawItem(line).item));
  return tokens;
}
