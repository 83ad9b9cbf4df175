import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ChunkBuffers,
  type NewSegment,
  newContextId,
  type ObjectPlacement,
  type RoleTally,
  type StagingSlot,
} from '@ctxvault/db';
import { callIds, type Format } from '@ctxvault/formats';
import { type BlobStore, seal, sealBuffer, sealKey, uploadsInParts } from '@ctxvault/storage';
import { writeObjectDirect } from './direct-object.ts';
import type { DocumentEnvelope } from './document.ts';
import type { Keyring } from './envelope/keyring.ts';
import { HeldLines } from './held-lines.ts';
import { f64s, tallyOf, u32s } from './item-index.ts';
import { normalizedOrNull } from './item-views.ts';
import type { StagingStore, StorageSettings } from './ports.ts';
import type { RawItems } from './raw-items.ts';
import { itemLinePieces, LineBatches, roleCode, writeTrailerLine } from './segment-format.ts';
import { timeSlices } from './time-slices.ts';
import type { TokenCounter } from './token-counter.ts';

/** Items longer than this (in characters) are turned into bytes and hashed a piece of this size at a time. */
const LARGE_ITEM_CHARS = 1024 * 1024;

/**
 * The longest the items of a write are read, parsed, checked and hashed before the event loop is
 * served: a body that arrives faster than it is read would otherwise be worked through in one run.
 */
const ITEMS_SLICE_MS = 10;

/** A batch of lines waits at most this long for more: a slow client's lines still reach staging as they come. */
const BATCH_WAIT_MS = 20;

/** The storage columns of a segment with no object (inline or staged). */
const NO_OBJECT: Pick<NewSegment, 'object_key' | 'etag' | 'stored_bytes' | 'content_encoding' | 'encryption'> = {
  object_key: null,
  etag: null,
  stored_bytes: null,
  content_encoding: 'identity',
  encryption: null,
};

export interface SegmentTarget {
  tenantId: string;
  contextId: string;
  /** the version this write makes */
  version: number;
  modelId: string | null;
  /** the items' format: roles and token counts follow its normalized view */
  format: Format;
  /** the index of the segment's first item in the version */
  firstItem: number;
  /**
   * The fields of the version this write makes when the segment is its only one (a create, a
   * replace): a large body may then be written straight to its object, whose trailer names that
   * version already. Without it (an append: its version's list is known only at its commit) a
   * large body is staged.
   */
  versionFields?: DocumentEnvelope;
}

/**
 * Writes the items of one version's write as one segment: each item's text as sent, one a line,
 * with the item index beside it (offsets, roles, and token counts when known). The segment stays
 * inline (in its row) when the provider is `database` or it is under the inline threshold, and is
 * staged for a worker otherwise; at most `inlineThreshold` bytes are held before staging starts.
 * A create's or replace's body larger than a part of the S3 store goes straight to its object
 * instead (docs/storage-model.md, "Writing a large create straight to its object"): its first part
 * is held before the upload starts, and the body is staged after all when the store refuses the
 * upload or that part.
 * Tokens are counted here only for the first `inlineCountBytes` of items that carry no `tokens`,
 * in a counting thread (so the event loop never loads a tokenizer nor tokenizes): beyond that,
 * the segment's counts are left to the worker and not final until it is done.
 * With envelope encryption on, the inline body and the staged one are sealed with the context's
 * data key (each under its own key derived for this segment).
 */
export class SegmentWriter {
  /** the part-sized buffers of the direct uploads, kept for the next parts (see sendInParts) */
  private partBuffers: ChunkBuffers | undefined;

  constructor(
    private readonly staging: StagingStore,
    private readonly blobs: BlobStore,
    private readonly settings: StorageSettings,
    private readonly tokenCounter: TokenCounter,
    private readonly keyring?: Keyring,
  ) {}

  async write(target: SegmentTarget, items: RawItems): Promise<NewSegment> {
    const id = newContextId();
    const dataKey = this.keyring?.sealing ? await this.keyring.forContext(target.tenantId, target.contextId) : null;
    const { format } = target;
    const hash = createHash('sha256');
    const offsets: number[] = [];
    const roleCodes: number[] = [];
    // the counted items' roles and tokens: given ones at once, the others (their texts) by the counting thread at the end
    const countedRoles: string[] = [];
    const tokens: number[] = [];
    const uncounted: { index: number; text: string }[] = [];
    const roles: Record<string, RoleTally> = {};
    let counting = true;
    let countedBytes = 0;
    let size = 0;
    let hasCalls = false;
    let firstTimestamp: string | null = null;
    let lastTimestamp: string | null = null;
    const inlineCountBytes = this.settings.inlineCountBytes;
    const slices = timeSlices(ITEMS_SLICE_MS);

    // the lines go out (to the hash, to staging) a batch at a time
    const batches = new LineBatches();
    let batchStarted = performance.now();

    async function* lines(): AsyncGenerator<Buffer> {
      for await (const { item, text } of items) {
        await slices.pause();
        const now = performance.now();
        if (now - batchStarted > BATCH_WAIT_MS) {
          batchStarted = now;
          const waited = batches.take();
          if (waited) {
            hash.update(waited);
            yield waited;
          }
        }
        // a large item (a base64 image) is encoded and hashed a piece at a time, the event loop served between
        const large = text.length > LARGE_ITEM_CHARS;
        let lineBytes: number;
        let full: Buffer[];
        if (large) {
          lineBytes = Buffer.byteLength(text) + 1;
          const taken = batches.take();
          full = taken ? [taken] : [];
        } else {
          ({ bytes: lineBytes, full } = batches.add(text));
        }
        offsets.push(size);
        size += lineBytes;
        // the role an item plays: an Anthropic tool_result turn is a tool item, Gemini's model the assistant
        const view = normalizedOrNull(format, item);
        const role = view?.role ?? String(item.role);
        if (view && callIds(view).length > 0) hasCalls = true;
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
          countedRoles.push(role);
          // a ctxvault item's own `tokens` is its count (see countItemTokens), when its format accepts it
          const given = format === 'ctxvault' && view && typeof item.tokens === 'number' ? item.tokens : null;
          if (given === null) uncounted.push({ index: tokens.length, text });
          tokens.push(given ?? 0);
        }
        for (const batch of full) {
          hash.update(batch);
          yield batch;
        }
        if (!large) continue;
        for (const piece of itemLinePieces(text, LARGE_ITEM_CHARS)) {
          hash.update(piece);
          yield piece;
          await nextTurn();
        }
      }
      const last = batches.take();
      if (last) {
        hash.update(last);
        yield last;
      }
    }

    const source = lines()[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    const keepInline = this.settings.provider === 'database';
    const direct =
      target.versionFields && !keepInline && this.settings.directWrites && uploadsInParts(this.blobs)
        ? this.blobs
        : null;
    // a body going straight to its object holds its first part first: one that ends within it is
    // staged. Past the inline threshold it holds a staging slot, so the bytes held are bounded too.
    const holdBytes = Math.max(this.settings.inlineThreshold, direct?.multipartFrom ?? 0);
    let slot: StagingSlot | null = null;
    let sha256: string | null = null;
    const digest = () => {
      sha256 ??= hash.digest('hex');
      return sha256;
    };
    let placement: ObjectPlacement | null = null;
    let inline: boolean;
    try {
      while (keepInline || headBytes < holdBytes) {
        if (!keepInline && headBytes >= this.settings.inlineThreshold) slot ??= this.staging.takeSlot();
        const next = await source.next();
        if (next.done) {
          ended = true;
          break;
        }
        head.push(next.value);
        headBytes += next.value.length;
      }
      inline = ended && (keepInline || headBytes < this.settings.inlineThreshold);
      if (!inline) {
        slot ??= this.staging.takeSlot();
        const held = new HeldLines(head, source);
        const described = { id, context_id: target.contextId, version: target.version, first_item: target.firstItem };
        if (direct && !ended && target.versionFields) {
          this.partBuffers ??= new ChunkBuffers(direct.multipartFrom, direct.partsInFlight + 1);
          const recovery = { context: target.versionFields, list: { version: target.version, segments: [id] } };
          const trailer = () =>
            writeTrailerLine(
              { ...described, item_count: offsets.length, size_bytes: size, sha256: digest() },
              recovery,
            );
          placement = await writeObjectDirect(
            {
              blobs: direct,
              settings: this.settings,
              keyring: this.keyring,
              partBuffers: this.partBuffers,
            },
            { ...described, data_key_id: dataKey?.id ?? null },
            held,
            trailer,
          );
        }
        if (!placement) {
          const rest = held.rest();
          const body = dataKey ? seal(sealKey(dataKey.key, id, 'staged'), rest) : rest;
          await this.staging.write(target.contextId, target.version, body, slot);
        }
      }
    } finally {
      slot?.release();
    }

    const final = counting;
    if (final) {
      const counts =
        uncounted.length > 0
          ? await this.tokenCounter.count(
              target.modelId,
              uncounted.map((u) => u.text),
              format,
            )
          : [];
      for (const [i, { index }] of uncounted.entries()) tokens[index] = counts[i]!.tokens;
      for (const [i, role] of countedRoles.entries()) tallyOf(roles, role).tokens += tokens[i]!;
    }
    const inlineBody = inline ? Buffer.concat(head, headBytes) : null;
    return {
      id,
      context_id: target.contextId,
      version: target.version,
      kind: 'write',
      state: inline ? 'inline' : placement ? 'stored' : 'staged',
      body: inlineBody && dataKey ? await sealBuffer(sealKey(dataKey.key, id, 'inline'), inlineBody) : inlineBody,
      ...(placement ?? NO_OBJECT),
      data_key_id: dataKey?.id ?? null,
      first_item: target.firstItem,
      item_count: offsets.length,
      size_bytes: size,
      sha256: digest(),
      token_count: final ? tokens.reduce((sum, n) => sum + n, 0) : 0,
      roles,
      tokens_final: final,
      item_tokens: final ? u32s(tokens) : null,
      item_offsets: f64s(offsets),
      item_roles: Buffer.from(roleCodes),
      first_timestamp: firstTimestamp,
      last_timestamp: lastTimestamp,
      has_calls: hasCalls,
    };
  }
}
