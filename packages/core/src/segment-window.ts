import type { Segment, SegmentIndex } from '@ctxvault/db';
import { readU32s } from './item-index.ts';
import type { SegmentStore } from './ports.ts';
import { parseRawItem } from './raw-items.ts';
import type { ContextItem } from './schemas.ts';
import { roleName, splitLines } from './segment-format.ts';
import type { SegmentReader } from './segment-reader.ts';
import type { ItemTokenCounter } from './tokens.ts';
import { planTruncation, type TokenBudget } from './truncation.ts';

export interface SegmentWindowOptions {
  last?: number;
  budget?: TokenBudget;
}

/** What a partial read streams (item lines) and what it left out. */
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
 * Plans a partial read from the segments' counts and item index, and reads only the segments it
 * keeps items of: `last=N` touches the tail segments (from the first kept item's offset), a token
 * budget reads roles and counts from the index. Only segments whose tokens a worker has not
 * counted yet (or stored before the index existed) are read and counted here.
 */
export async function segmentWindow(
  segs: readonly Segment[],
  store: SegmentStore,
  reader: SegmentReader,
  countTokens: ItemTokenCounter,
  options: SegmentWindowOptions,
): Promise<SegmentWindow> {
  const total = segs.reduce((sum, s) => sum + s.item_count, 0);
  const start = options.last === undefined ? 0 : Math.max(0, total - options.last);
  const candidates: Candidate[] = [];
  let seen = 0;
  for (const seg of segs) {
    if (seen + seg.item_count > start) candidates.push({ seg, skip: Math.max(0, start - seen) });
    seen += seg.item_count;
  }
  const index = await store.loadIndex(candidates.filter(({ seg }) => indexed(seg)).map(({ seg }) => seg.id));
  const facts = async ({ seg, skip }: Candidate) => factsOf(seg, skip, index.get(seg.id), reader, countTokens);

  if (!options.budget) {
    let tokens = 0;
    for (const candidate of candidates) {
      tokens +=
        candidate.skip === 0 && candidate.seg.tokens_final
          ? candidate.seg.token_count
          : (await facts(candidate)).tokens.reduce((sum, n) => sum + n, 0);
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

  const perSegment = [];
  for (const candidate of candidates) perSegment.push(await facts(candidate));
  const roles = perSegment.flatMap((f) => f.roles.map((role) => ({ role: role as ContextItem['role'] })));
  const plan = planTruncation(
    roles,
    perSegment.flatMap((f) => f.tokens),
    options.budget,
  );
  const masks: boolean[][] = [];
  let at = 0;
  for (const f of perSegment) {
    masks.push(plan.keep.slice(at, at + f.roles.length));
    at += f.roles.length;
  }
  async function* lines(): AsyncGenerator<Buffer> {
    for (const [i, { seg, skip }] of candidates.entries()) {
      const mask = masks[i]!;
      const first = mask.indexOf(true);
      if (first === -1) continue;
      let item = first;
      for await (const line of splitLines(reader.lines([seg], skip + first))) {
        if (mask[item++]) yield Buffer.concat([line, NEWLINE]);
      }
    }
  }
  const returned = plan.keep.filter(Boolean).length;
  return { lines: lines(), returned, dropped: total - returned, tokens: plan.tokens };
}

const NEWLINE = Buffer.from('\n');

function indexed(seg: Segment): boolean {
  return seg.format === 'lines' && seg.item_count > 0;
}

/** Roles and token counts of a segment's items from item `skip`: from its index, or else by reading them. */
async function factsOf(
  seg: Segment,
  skip: number,
  index: SegmentIndex | undefined,
  reader: SegmentReader,
  countTokens: ItemTokenCounter,
): Promise<{ roles: string[]; tokens: number[] }> {
  if (index?.item_roles && index.item_tokens && seg.tokens_final) {
    return {
      roles: [...index.item_roles.subarray(skip)].map(roleName),
      tokens: readU32s(index.item_tokens).slice(skip),
    };
  }
  const roles: string[] = [];
  const tokens: number[] = [];
  for await (const line of splitLines(reader.lines([seg], skip))) {
    const { item } = parseRawItem(line);
    roles.push(item.role);
    tokens.push(countTokens(item));
  }
  return { roles, tokens };
}
