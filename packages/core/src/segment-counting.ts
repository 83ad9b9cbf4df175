import type { RoleTally, SegmentCounts } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { tallyOf, u32s } from './item-index.ts';
import type { ItemCount, TokenCounter } from './token-counter.ts';

/** Item lines are sent to the counter in runs of about this many bytes. */
const BATCH_BYTES = 1024 * 1024;
/** Runs counted at once before `push` waits: keeps every counting thread busy, and the bytes held bounded. */
const MAX_IN_FLIGHT = 4;
const NEWLINE = 0x0a;

/**
 * Counts the tokens of a segment's item lines as their bytes go by (from staging during the upload,
 * or read back from the store): whole lines are handed to the counter (worker threads in the
 * processes) in runs of BATCH_BYTES, counted while the next bytes arrive. When MAX_IN_FLIGHT runs
 * are still being counted, `push` waits for them; or, with `keepUp` (beside an upload, which must
 * not slow down to the counting's pace), it stops taking bytes, and `catchUp` counts the items it
 * left from where it stopped.
 */
export class LineCounting {
  private readonly started: Promise<ItemCount[]>[] = [];
  private awaited = 0;
  /** runs handed to the counter and not counted yet */
  private running = 0;
  /** items in the runs handed to the counter */
  private sent = 0;
  /** bytes are no longer taken (keepUp): the items from `sent` on are left for catchUp */
  private behind = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly counter: TokenCounter,
    private readonly modelId: string | null,
    private readonly format: Format,
    private keepUp = false,
  ) {}

  async push(chunk: Buffer): Promise<void> {
    if (this.behind) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH_BYTES) return;
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    // the partial line at the end waits for the rest of it
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    this.pending = end < bytes.length ? [bytes.subarray(end)] : [];
    this.pendingBytes = bytes.length - end;
    if (end > 0) await this.send(bytes.subarray(0, end));
  }

  /** Counts the items it stopped taking (if it did): `rest(skip)` gives the item lines from item `skip` on. */
  async catchUp(rest: (skipItems: number) => AsyncIterable<Buffer>): Promise<void> {
    if (!this.behind) return;
    this.behind = false;
    this.keepUp = false;
    for await (const chunk of rest(this.sent)) await this.push(chunk);
  }

  /** Every count, once the last bytes are pushed. */
  async counts(): Promise<SegmentCounts> {
    if (this.behind) throw new Error('token counting fell behind: catchUp() first');
    if (this.pendingBytes > 0) await this.send(Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
    const tokens: number[] = [];
    const roles: Record<string, RoleTally> = {};
    for (const counts of await Promise.all(this.started)) {
      for (const count of counts) {
        tokens.push(count.tokens);
        const tally = tallyOf(roles, count.role);
        tally.items++;
        tally.tokens += count.tokens;
      }
    }
    return {
      token_count: tokens.reduce((sum, n) => sum + n, 0),
      roles,
      tokens_final: true,
      item_tokens: u32s(tokens),
    };
  }

  private async send(lines: Buffer): Promise<void> {
    while (this.running >= MAX_IN_FLIGHT) {
      if (this.keepUp) {
        this.behind = true;
        this.pending = [];
        this.pendingBytes = 0;
        return;
      }
      await this.started[this.awaited++];
    }
    this.running++;
    const counting = this.counter.countLines(this.modelId, lines, this.format);
    // a failure is seen where the run is awaited (above or in counts()), not as an unhandled rejection before
    counting.then(
      () => this.running--,
      () => this.running--,
    );
    this.started.push(counting);
    this.sent += newlines(lines);
  }
}

function newlines(bytes: Buffer): number {
  let n = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) n++;
  return n;
}

/** The token counts of a segment's item lines, counted by `counter`. */
export async function segmentCounts(
  lines: AsyncIterable<Buffer>,
  counter: TokenCounter,
  modelId: string | null,
  format: Format,
): Promise<SegmentCounts> {
  const counting = new LineCounting(counter, modelId, format);
  for await (const chunk of lines) await counting.push(chunk);
  return counting.counts();
}
