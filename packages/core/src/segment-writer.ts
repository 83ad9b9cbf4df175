import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type NewSegment, newContextId, type RoleTally } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { f64s, tallyOf, u32s } from './item-index.ts';
import { normalizedOrNull } from './item-views.ts';
import type { StagingStore, StorageSettings } from './ports.ts';
import type { RawItems } from './raw-items.ts';
import { itemLine, itemLinePieces, roleCode } from './segment-format.ts';
import type { Tokenizer } from './tokens.ts';

/** Items longer than this (in characters) are turned into bytes and hashed a piece of this size at a time. */
const LARGE_ITEM_CHARS = 1024 * 1024;

export interface SegmentTarget {
  contextId: string;
  /** the version this write makes */
  version: number;
  modelId: string | null;
  /** the items' format: roles and token counts follow its normalized view */
  format: Format;
  /** the index of the segment's first item in the version */
  firstItem: number;
}

/**
 * Writes the items of one version's write as one segment: each item's text as sent, one a line,
 * with the item index beside it (offsets, roles, and token counts when known). The segment stays
 * inline (in its row) when the provider is `database` or it is under the inline threshold, and is
 * staged for a worker otherwise; at most `inlineThreshold` bytes are held before staging starts.
 * Tokens are counted here only for the first `inlineCountBytes` of items that carry no `tokens`:
 * beyond that, the segment's counts are left to the worker and not final until it is done.
 */
export class SegmentWriter {
  constructor(
    private readonly staging: StagingStore,
    private readonly settings: StorageSettings,
    private readonly tokenizer: Tokenizer,
  ) {}

  async write(target: SegmentTarget, items: RawItems): Promise<NewSegment> {
    const countTokens = await this.tokenizer.forModel(target.modelId, target.format);
    const { format } = target;
    const hash = createHash('sha256');
    const offsets: number[] = [];
    const roleCodes: number[] = [];
    const tokens: number[] = [];
    const roles: Record<string, RoleTally> = {};
    let counting = true;
    let countedBytes = 0;
    let size = 0;
    let firstTimestamp: string | null = null;
    let lastTimestamp: string | null = null;
    const inlineCountBytes = this.settings.inlineCountBytes;

    async function* lines(): AsyncGenerator<Buffer> {
      for await (const { item, text } of items) {
        // a large item (a base64 image) is encoded and hashed a piece at a time, the event loop served between
        const line = text.length > LARGE_ITEM_CHARS ? null : itemLine(text);
        const lineBytes = line ? line.length : Buffer.byteLength(text) + 1;
        offsets.push(size);
        size += lineBytes;
        // the role an item plays: an Anthropic tool_result turn is a tool item, Gemini's model the assistant
        const role = normalizedOrNull(format, item)?.role ?? String(item.role);
        roleCodes.push(roleCode(role));
        const tally = tallyOf(roles, role);
        tally.items++;
        if (format === 'ctxvault' && typeof item.timestamp === 'string') {
          firstTimestamp ??= item.timestamp;
          lastTimestamp = item.timestamp;
        }
        if (counting && item.tokens === undefined) {
          countedBytes += lineBytes;
          counting = countedBytes <= inlineCountBytes;
        }
        if (counting) {
          const n = countTokens(item);
          tokens.push(n);
          tally.tokens += n;
        }
        if (line) {
          hash.update(line);
          yield line;
          continue;
        }
        for (const piece of itemLinePieces(text, LARGE_ITEM_CHARS)) {
          hash.update(piece);
          yield piece;
          await nextTurn();
        }
      }
    }

    const source = lines()[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    const keepInline = this.settings.provider === 'database';
    while (keepInline || headBytes < this.settings.inlineThreshold) {
      const next = await source.next();
      if (next.done) {
        ended = true;
        break;
      }
      head.push(next.value);
      headBytes += next.value.length;
    }
    const inline = ended && (keepInline || headBytes < this.settings.inlineThreshold);
    if (!inline) {
      async function* rest(): AsyncGenerator<Buffer> {
        yield* head;
        for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
      }
      await this.staging.write(target.contextId, target.version, rest());
    }

    const final = counting;
    if (!final) for (const tally of Object.values(roles)) tally.tokens = 0;
    return {
      id: newContextId(),
      context_id: target.contextId,
      version: target.version,
      kind: 'write',
      state: inline ? 'inline' : 'staged',
      body: inline ? Buffer.concat(head, headBytes) : null,
      object_key: null,
      etag: null,
      stored_bytes: null,
      content_encoding: 'identity',
      encryption: null,
      first_item: target.firstItem,
      item_count: offsets.length,
      size_bytes: size,
      sha256: hash.digest('hex'),
      token_count: final ? tokens.reduce((sum, n) => sum + n, 0) : 0,
      roles,
      tokens_final: final,
      item_tokens: final ? u32s(tokens) : null,
      item_offsets: f64s(offsets),
      item_roles: Buffer.from(roleCodes),
      first_timestamp: firstTimestamp,
      last_timestamp: lastTimestamp,
    };
  }
}
