import type { RoleTally, SegmentCounts } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { tallyOf, u32s } from './item-index.ts';
import { splitLines } from './segment-format.ts';
import type { TokenCounter } from './token-counter.ts';

/** Items are sent to the counter in calls of about this many characters: enough to keep every counting thread busy. */
const CALL_CHARS = 8 * 1024 * 1024;

/** The token counts of a segment's item lines, counted by `counter` (worker threads in the processes). */
export async function segmentCounts(
  lines: AsyncIterable<Buffer>,
  counter: TokenCounter,
  modelId: string | null,
  format: Format,
): Promise<SegmentCounts> {
  const tokens: number[] = [];
  const roles: Record<string, RoleTally> = {};
  let batch: string[] = [];
  let chars = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    for (const count of await counter.count(modelId, batch, format)) {
      tokens.push(count.tokens);
      const tally = tallyOf(roles, count.role);
      tally.items++;
      tally.tokens += count.tokens;
    }
    batch = [];
    chars = 0;
  };
  for await (const line of splitLines(lines)) {
    const text = line.toString('utf8');
    batch.push(text);
    chars += text.length;
    if (chars >= CALL_CHARS) await flush();
  }
  await flush();
  return {
    token_count: tokens.reduce((sum, n) => sum + n, 0),
    roles,
    tokens_final: true,
    item_tokens: u32s(tokens),
  };
}
