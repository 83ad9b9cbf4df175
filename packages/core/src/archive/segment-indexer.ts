import { createHash } from 'node:crypto';
import type { NewSegment, RoleTally } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { f64s, tallyOf, u32s } from '../item-index.ts';
import { normalizedOrNull } from '../item-views.ts';
import { parseRawItem } from '../raw-items.ts';
import { roleCode } from '../segment-format.ts';
import type { ItemTokenCounter } from '../tokens.ts';

/** The index columns of a segment as its item lines went by (whether it holds tool calls is not known). */
export type IndexedLines = Pick<
  NewSegment,
  | 'item_count'
  | 'size_bytes'
  | 'sha256'
  | 'token_count'
  | 'roles'
  | 'tokens_final'
  | 'item_tokens'
  | 'item_offsets'
  | 'item_roles'
  | 'first_timestamp'
  | 'last_timestamp'
  | 'has_calls'
>;

/** A segment's index as an archive carries it: per item tokens and role codes, the tallies, the timestamps. */
export interface KnownIndex {
  tokens: number[];
  roles: Buffer;
  tallies: Record<string, RoleTally>;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
}

/**
 * Builds a segment's item index (offsets, roles, token counts, timestamps, size and sha256) from
 * its item lines as they stream past, for segments that arrive without one: from an archive or
 * from the bucket. Token counts are the given ones (`known`, from an archive) or counted here.
 */
export class SegmentIndexer {
  private readonly hash = createHash('sha256');
  private readonly offsets: number[] = [];
  private readonly roleCodes: number[] = [];
  private readonly tokens: number[] = [];
  private readonly roles: Record<string, RoleTally> = {};
  private size = 0;
  private firstTimestamp: string | null = null;
  private lastTimestamp: string | null = null;

  /** the index the source kept (an archive): then items are only measured and hashed, not parsed */
  private readonly known: KnownIndex | null;
  private readonly count: ItemTokenCounter | null;

  /** `tokens`: the index the source kept, or the counter of items that come without one. */
  constructor(
    private readonly format: Format,
    tokens: { known: KnownIndex } | { count: ItemTokenCounter },
  ) {
    this.known = 'known' in tokens ? tokens.known : null;
    this.count = 'count' in tokens ? tokens.count : null;
  }

  /** Passes `lines` (each without its `\n`) on as stored lines (with it), indexing each. */
  async *pass(lines: Iterable<Buffer> | AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const bare of lines) {
      const line = Buffer.concat([bare, NEWLINE]);
      this.add(line);
      yield line;
    }
  }

  private add(line: Buffer): void {
    this.offsets.push(this.size);
    this.size += line.length;
    this.hash.update(line);
    if (!this.count) return;
    const { item } = parseRawItem(line.subarray(0, -1));
    const role = normalizedOrNull(this.format, item)?.role ?? String(item.role);
    this.roleCodes.push(roleCode(role));
    const tokens = this.count(item);
    this.tokens.push(tokens);
    const tally = tallyOf(this.roles, role);
    tally.items++;
    tally.tokens += tokens;
    if (this.format === 'ctxvault' && typeof item.timestamp === 'string') {
      this.firstTimestamp ??= item.timestamp;
      this.lastTimestamp = item.timestamp;
    }
  }

  result(): IndexedLines {
    const measured = {
      item_count: this.offsets.length,
      size_bytes: this.size,
      sha256: this.hash.digest('hex'),
      item_offsets: f64s(this.offsets),
      tokens_final: true,
      // unknown here: a token-budget read then reads every item (safe)
      has_calls: null,
    };
    const { known } = this;
    if (known) {
      return {
        ...measured,
        token_count: known.tokens.reduce((sum, n) => sum + n, 0),
        roles: known.tallies,
        item_tokens: u32s(known.tokens),
        item_roles: known.roles,
        first_timestamp: known.firstTimestamp,
        last_timestamp: known.lastTimestamp,
      };
    }
    return {
      ...measured,
      token_count: this.tokens.reduce((sum, n) => sum + n, 0),
      roles: this.roles,
      item_tokens: u32s(this.tokens),
      item_roles: Buffer.from(this.roleCodes),
      first_timestamp: this.firstTimestamp,
      last_timestamp: this.lastTimestamp,
    };
  }
}

const NEWLINE = Buffer.from('\n');
