import type { Readable } from 'node:stream';
import {
  type CommittedVersion,
  type ContextRow,
  type CopyRefusal,
  isUniqueViolation,
  type NewSegment,
  newContextId,
  type Segment,
  StagingConflictError,
  type TailHint,
  type VersionRecord,
} from '@ctxvault/db';
import type { JobView } from '@ctxvault/queue';
import type { BodyCache } from './body-cache.ts';
import { decodeCursor, decodeVersionCursor, encodeCursor, encodeVersionCursor } from './cursor.ts';
import { type DocumentEnvelope, openingLine } from './document.ts';
import {
  GoneError,
  IdempotencyKeyReusedError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  VersionConflictError,
} from './errors/index.ts';
import { searchSegments } from './item-search.ts';
import { convertedRead, type WindowedRead } from './item-views.ts';
import { type ManifestedVersion, putVersionManifest } from './version-manifests.ts';

export type { WindowedRead };

import { newContextRow, rowFromEnvelope } from './context-rows.ts';
import { CountBatches, itemsCounter, keptCounter } from './counting/count-batches.ts';
import { countItemTokens } from './counting/item-tokens.ts';
import { mediaPricingFor } from './counting/media-tokens.ts';
import { readU32s } from './item-index.ts';
import { type ItemWindow, type TokenBudget, windowOf } from './item-window.ts';
import { openedLookups } from './opened-lookups.ts';
import type { CoreDeps, SegmentLookups } from './ports.ts';
import { checkQuotas, type TenantQuotas } from './quotas.ts';
import type { RawItem, RawItems } from './raw-items.ts';
import { RequestFingerprint } from './request-fingerprint.ts';
import { RowsSeen } from './rows-seen.ts';
import {
  type AppendItemsInput,
  assertItemsOfFormat,
  type CreateContextStream,
  expiryOf,
  type ForkInput,
  type ListQuery,
  type ReadOptions,
  type ReplaceContextInput,
  type SearchInput,
  type TruncationStrategy,
  type VersionsQuery,
} from './schemas.ts';
import { documentBody, documentBytes, TruncatedSegmentError } from './segment-format.ts';
import { SegmentReader } from './segment-reader.ts';
import { budgetWindow, parsedItems, tailWindow } from './segment-window.ts';
import { SegmentWriter } from './segment-writer.ts';
import type { TokenCounter } from './token-counter.ts';
import { rowAtVersion, toVersionView, type VersionView } from './version-views.ts';
import {
  type ContextSummary,
  type ContextView,
  envelopeOf,
  type SearchResult,
  type StatusView,
  toContextView,
} from './views.ts';

export interface ContextServiceDeps extends CoreDeps {
  /** counts tokens off the event loop (a counting thread in the processes) */
  tokenCounter: TokenCounter;
  /** per-tenant quotas on writes; none: no limit */
  quotas?: TenantQuotas;
  /** hot segments; reads go to storage every time without it */
  cache?: BodyCache;
}

/** What a write answers: stored at once (inline) or accepted for upload; `replayed` when an Idempotency-Key repeated it. */
export type WriteResult = (
  | { state: 'stored'; context: ContextView }
  | { state: 'pending'; id: string; version: number; job_id: string }
) & { replayed?: true };

export interface ReadResult {
  context: ContextView;
  /** The full response document: the view's fields plus `content`, streamed. */
  body: Readable | AsyncIterable<Buffer>;
}

/**
 * Appends are optimistic: read the current version, write the next, commit if nobody else did.
 * When another write wins, the append starts over (with jittered backoff) up to this many times.
 */
const APPEND_ATTEMPTS = 10;
const APPEND_BACKOFF_MS = 20;
/** Live rows an API process remembers for the appends that follow its reads (about 1 KB each). */
const ROWS_SEEN = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything the API does with contexts. The API validates input; this class owns behaviour. */
export class ContextService {
  private readonly reader: SegmentReader;
  private readonly writer: SegmentWriter;
  private readonly rowsSeen = new RowsSeen(ROWS_SEEN);

  constructor(private readonly deps: ContextServiceDeps) {
    this.reader = new SegmentReader(deps.segments, deps.staging, deps.blobs, deps.cache, deps.keyring);
    this.writer = new SegmentWriter(deps.staging, deps.blobs, deps.settings, deps.tokenCounter, deps.keyring);
  }

  /**
   * Creates a context. With an `idempotencyKey`, a repeated create (a client retrying after a lost
   * answer, or two racing) returns the context the first one made, never a second one; the same key
   * with a different request is refused (422 idempotency_key_reused).
   */
  async create(
    tenantId: string,
    input: CreateContextStream,
    requestId?: string,
    idempotencyKey?: string,
  ): Promise<WriteResult> {
    const { content: given, ...fields } = input;
    const fingerprint = idempotencyKey ? new RequestFingerprint(fields) : null;
    if (idempotencyKey && fingerprint) {
      const earlier = await this.deps.contexts.findByIdempotencyKey(tenantId, idempotencyKey);
      if (earlier) return this.replayOf(earlier, idempotencyKey, await fingerprint.complete(given));
    }
    await this.checkQuotas(tenantId, true);
    const now = new Date();
    const envelope: DocumentEnvelope = {
      id: newContextId(),
      version: 1,
      tenant_id: tenantId,
      agent_id: input.agent_id,
      model_id: input.model_id ?? null,
      session_id: input.session_id ?? null,
      name: input.name ?? null,
      metadata: input.metadata,
      max_tokens: input.max_tokens ?? null,
      format: input.format,
      system: input.system ?? null,
      created_at: now.toISOString(),
      expires_at: expiryOf(input, now) ?? null,
    };
    const content = fingerprint ? fingerprint.tap(given) : given;
    const items = input.truncate ? await this.truncated(() => rereadable(content), envelope, input.truncate) : content;
    const segment = await this.writeSegment(envelope, 0, items, true);
    const requestDigest = fingerprint?.digest() ?? null;
    const row = newContextRow(envelope, {
      status: segment.state === 'staged' ? 'pending' : 'stored',
      data_key_id: segment.data_key_id,
      job_id: this.jobIdFor(segment),
      updated_at: now,
      idempotency_key: idempotencyKey ?? null,
      idempotency_fingerprint: requestDigest,
    });
    let committed: CommittedVersion;
    try {
      committed = await this.deps.segments.createContext(row, segment, this.deps.blobs.kind);
    } catch (err) {
      await this.dropWritten(segment);
      if (idempotencyKey && isUniqueViolation(err)) {
        // a concurrent create with the same key won the race: answer with its context
        const winner = await this.deps.contexts.findByIdempotencyKey(tenantId, idempotencyKey);
        if (winner) return this.replayOf(winner, idempotencyKey, requestDigest);
      }
      throw err;
    }
    return this.afterWrite(committed, segment, requestId);
  }

  /** The whole context: its current version, or a kept old `version` (410 once collected). */
  async get(tenantId: string, id: string, version?: number): Promise<ReadResult> {
    const { row, segs, reader } = await this.atVersion(tenantId, id, version, NO_TAIL);
    const context = toContextView(row);
    const opening = openingLine(context);
    return {
      context,
      body: documentBody(opening, reader.lines(segs), { expectedBytes: documentBytes(opening, segs) }),
    };
  }

  /** The context without its body: what a conditional request is decided on before any body is opened. */
  async head(tenantId: string, id: string): Promise<ContextView> {
    return toContextView(await this.live(tenantId, id));
  }

  /** The items of a context, or only the last N and/or what fits in a token budget. */
  async read(tenantId: string, id: string, options: ReadOptions): Promise<WindowedRead> {
    const whole = options.last === undefined && options.max_tokens === undefined && options.strategy === undefined;
    // the segments the window will open come with the row: their bodies (inline) and item index
    const tail: TailHint = whole ? NO_TAIL : { items: options.last ?? 0, tokens: options.max_tokens ?? null };
    const opened = await this.atVersion(tenantId, id, options.version, tail);
    const { row, segs, reader } = opened;
    const context = toContextView(row);
    const readOnce = async (): Promise<WindowedRead> =>
      whole
        ? {
            context,
            lines: reader.lines(segs),
            window: { returned: row.message_count, dropped: 0, boundary_dropped: 0, tokens: row.token_count },
          }
        : await this.windowed(opened, context, options);
    // a conversion reads the window twice (check, then send): the version's segments do not change
    return options.as === undefined ? readOnce() : convertedRead(readOnce, options.as);
  }

  private async windowed(
    { row, segs, reader, lookups }: OpenedRead,
    context: ContextView,
    options: ReadOptions,
  ): Promise<WindowedRead> {
    let budget: TokenBudget | undefined;
    if (options.max_tokens !== undefined || options.strategy !== undefined) {
      const maxTokens = options.max_tokens ?? row.max_tokens;
      if (!maxTokens) throw maxTokensRequired('strategy');
      budget = { max_tokens: maxTokens, strategy: options.strategy ?? 'oldest_first' };
    }
    const format = context.format;
    const counter = itemsCounter(this.deps.tokenCounter, row.model_id ?? null, format);
    if (format === 'ctxvault' && !budget && options.last !== undefined) {
      // only the tail segments are read
      const { lines, ...window } = await tailWindow(segs, lookups, reader, counter, options.last);
      return { context, lines, window: { ...window, boundary_dropped: 0 } };
    }
    if (format === 'ctxvault' && budget?.strategy === 'oldest_first' && options.last === undefined) {
      // only the tail holding just more than the budget is read, when the kept counts allow it
      const tail = await budgetWindow(segs, lookups, reader, budget.max_tokens);
      if (tail) {
        return { context, lines: linesOf(tail.items), window: windowFields(tail) };
      }
    }
    const kept = await keptCounts(segs, lookups);
    const window = await windowOf(() => itemsOf(reader, segs), kept ? keptCounter(kept, counter) : counter, {
      format,
      last: options.last,
      budget,
    });
    return { context, lines: linesOf(window.items), window: windowFields(window) };
  }

  /**
   * Counts and tokens per role, size and compression: from the counts kept per segment, no body is
   * read. With `estimates`, the items are read to say which of their parts were estimated.
   */
  async summary(tenantId: string, id: string, options: { estimates?: boolean } = {}): Promise<ContextSummary> {
    const opened = await this.opened(tenantId, id, NO_TAIL);
    const { row, segs } = opened;
    const estimated = options.estimates ? await this.estimatedParts(opened) : undefined;
    const roles = {
      system: { items: 0, tokens: 0 },
      user: { items: 0, tokens: 0 },
      assistant: { items: 0, tokens: 0 },
      tool: { items: 0, tokens: 0 },
    };
    let first: string | null = null;
    let last: string | null = null;
    for (const seg of segs) {
      // roles as the format's normalized view gives them (an Anthropic tool_result turn is a tool item), counted per segment
      for (const [role, tally] of Object.entries(seg.roles)) {
        const sum = roles[role as keyof typeof roles];
        if (!sum) continue;
        sum.items += tally.items;
        sum.tokens += tally.tokens;
      }
      first ??= seg.first_timestamp;
      last = seg.last_timestamp ?? last;
    }
    const view = toContextView(row);
    return {
      id: row.id,
      version: row.version,
      status: row.status,
      message_count: row.message_count,
      current_tokens: row.token_count,
      tokens_final: row.tokens_final,
      max_tokens: view.max_tokens,
      tokens_over_limit: view.max_tokens ? Math.max(0, row.token_count - view.max_tokens) : 0,
      roles,
      size_bytes: view.storage.size_bytes,
      stored_bytes: view.storage.stored_bytes,
      content_encoding: view.storage.content_encoding,
      compression_ratio:
        view.storage.stored_bytes === null || row.status !== 'stored'
          ? null
          : view.storage.stored_bytes / Math.max(1, view.storage.size_bytes),
      segments: row.segment_count,
      first_timestamp: first,
      last_timestamp: last,
      ...(estimated && { estimated }),
    };
  }

  /** The items holding estimated parts: found through each item's view, no text tokenized but with the item's kept count. */
  private async estimatedParts({
    row,
    segs,
    lookups,
    reader,
  }: OpenedRead): Promise<NonNullable<ContextSummary['estimated']>> {
    const format = toContextView(row).format;
    const kept = await keptCounts(segs, lookups);
    // without kept counts, only the items holding estimated parts are counted
    const uncounted = kept
      ? null
      : new CountBatches(itemsCounter(this.deps.tokenCounter, row.model_id ?? null, format));
    const pricing = mediaPricingFor(row.model_id ?? null);
    const parts: NonNullable<ContextSummary['estimated']>['parts'] = [];
    let index = 0;
    for await (const { item, text } of itemsOf(reader, segs)) {
      const { estimated_parts: paths } = countItemTokens(item, format, () => 0, pricing);
      if (paths.length > 0) {
        parts.push({ index, tokens: kept?.[index] ?? 0, paths });
        await uncounted?.add(text);
      }
      index++;
    }
    if (uncounted) for (const [i, tokens] of (await uncounted.counts()).entries()) parts[i]!.tokens = tokens;
    return { items: parts.length, tokens: parts.reduce((sum, p) => sum + p.tokens, 0), parts };
  }

  async status(tenantId: string, id: string): Promise<StatusView> {
    const row = await this.live(tenantId, id);
    return this.statusOf(row);
  }

  async job(tenantId: string, id: string): Promise<JobView> {
    const job = await this.deps.jobs.getJob(id, tenantId);
    if (!job) throw new NotFoundError(`no job ${id}`);
    return job;
  }

  async replace(
    tenantId: string,
    id: string,
    input: ReplaceContextInput,
    expectedVersion?: number,
    requestId?: string,
  ): Promise<WriteResult> {
    const current = await this.writableCurrent(tenantId, id, expectedVersion);
    const { format } = toContextView(current);
    assertItemsOfFormat(format, input.content, 'content');
    if (input.system !== undefined && format !== 'anthropic.messages') {
      throw new ValidationError('system is only for format anthropic.messages', [
        { path: 'system', message: `this context's format is ${format}` },
      ]);
    }
    const expiresAt = expiryOf(input, new Date());
    const envelope: DocumentEnvelope = {
      ...envelopeOf(current),
      version: current.version + 1,
      ...(input.model_id !== undefined && { model_id: input.model_id }),
      ...(input.name !== undefined && { name: input.name }),
      ...(input.metadata !== undefined && { metadata: input.metadata }),
      ...(input.max_tokens !== undefined && { max_tokens: input.max_tokens }),
      ...(input.system !== undefined && { system: input.system }),
      ...(expiresAt !== undefined && { expires_at: expiresAt }),
    };
    const items = input.truncate ? await this.truncated(() => input.content, envelope, input.truncate) : input.content;
    const segment = await this.writeSegment(envelope, 0, items, true);
    return this.commitVersion(current, envelope, segment, true, requestId);
  }

  async append(
    tenantId: string,
    id: string,
    input: AppendItemsInput,
    expectedVersion?: number,
    requestId?: string,
  ): Promise<WriteResult> {
    await this.checkQuotas(tenantId, false);
    // a small append (the agent's turn) starts from the row this process saw last and saves its
    // lookup; a stale one fails the commit with nothing written, and the append reads the row afresh
    let seen = this.staysInline(input) ? this.seenLive(tenantId, id) : undefined;
    for (let attempt = 1; ; attempt++) {
      if (seen && expectedVersion !== undefined && seen.version !== expectedVersion) seen = undefined;
      const current = seen ?? (await this.live(tenantId, id));
      checkPrecondition(current, expectedVersion);
      if (attempt === 1) assertItemsOfFormat(toContextView(current).format, input.items, 'items');
      const envelope: DocumentEnvelope = { ...envelopeOf(current), version: current.version + 1 };
      try {
        let segment: NewSegment;
        if (input.truncate) {
          // truncating rewrites the whole context as a new base
          const newItems = rereadable(input.items);
          const source = () => this.appended(current, newItems);
          segment = await this.writeSegment(envelope, 0, await this.truncated(source, envelope, input.truncate));
        } else {
          segment = await this.writeSegment(envelope, current.message_count, input.items);
        }
        return await this.commitVersion(current, envelope, segment, Boolean(input.truncate), requestId);
      } catch (err) {
        // another write moved the context on between our read and our commit (or is staging the
        // same version right now): read it again
        const raced =
          err instanceof TruncatedSegmentError ||
          err instanceof VersionConflictError ||
          err instanceof StagingConflictError;
        if (raced && seen) {
          seen = undefined;
          continue;
        }
        // streamed items were consumed by this attempt: only an array can be appended again
        if (!raced || expectedVersion !== undefined || !Array.isArray(input.items)) throw err;
        if (attempt >= APPEND_ATTEMPTS) {
          throw new VersionConflictError(`context ${id} is being written by others too often to append now; retry`);
        }
        this.deps.logger.debug({ id, attempt, err }, 'append raced another write; retrying');
        await sleep(Math.random() * APPEND_BACKOFF_MS * attempt);
      }
    }
  }

  async delete(
    tenantId: string,
    id: string,
    expectedVersion?: number,
    requestId?: string,
  ): Promise<{ id: string; status: 'deleting'; job_id: string | null }> {
    this.rowsSeen.forget(tenantId, id);
    const current = await this.live(tenantId, id);
    checkPrecondition(current, expectedVersion);
    const marked = await this.deps.contexts.updateIfVersion(id, current.version, {
      status: 'deleting',
      deleted_at: new Date(),
    });
    if (!marked) throw new VersionConflictError(`context ${id} changed while it was being deleted; retry`);
    let jobId: string | null = null;
    try {
      jobId = await this.deps.jobs.enqueueDelete({ contextId: id, tenantId, requestId });
    } catch (err) {
      // the row is marked: the worker's reconciler enqueues the purge once the queue is back
      this.deps.logger.warn({ id, err }, 'could not enqueue delete job; the reconciler will retry');
    }
    return { id, status: 'deleting', job_id: jobId };
  }

  async list(tenantId: string, query: ListQuery): Promise<{ items: ContextView[]; next_cursor: string | null }> {
    const rows = await this.deps.contexts.list({
      tenant_id: tenantId,
      agent_id: query.agent_id,
      session_id: query.session_id,
      model_id: query.model_id,
      format: query.format,
      status: query.status,
      created_after: query.created_after ? new Date(query.created_after) : undefined,
      created_before: query.created_before ? new Date(query.created_before) : undefined,
      before_id: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toContextView),
      next_cursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
    };
  }

  async search(tenantId: string, id: string, input: SearchInput): Promise<SearchResult> {
    const { row, segs, reader } = await this.opened(tenantId, id, NO_TAIL);
    const format = toContextView(row).format;
    const found = await searchSegments(segs, this.deps.segments, reader, format, input);
    return { id, version: row.version, query: input.query, ...found };
  }

  private async *appended(row: ContextRow, items: RawItems): AsyncGenerator<RawItem> {
    const segs = await this.deps.segments.segmentsOf(row.id, row.version);
    if (segs.length === 0) throw new TruncatedSegmentError(`version ${row.version} of ${row.id} moved on`);
    yield* itemsOf(this.reader, segs);
    yield* items;
  }

  /** A context's versions, newest first: kept ones (readable, restorable, forkable) and collected ones (their totals). */
  async versions(
    tenantId: string,
    id: string,
    query: VersionsQuery,
  ): Promise<{ items: VersionView[]; next_cursor: string | null }> {
    const row = await this.live(tenantId, id);
    const before = query.cursor ? decodeVersionCursor(query.cursor) : undefined;
    const records = await this.deps.segments.listVersions(id, before, query.limit + 1);
    const page = records.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((record) => toVersionView(record, row.version)),
      next_cursor: records.length > query.limit && last ? encodeVersionCursor(last.version) : null,
    };
  }

  /**
   * Makes a kept old version current again as a new version (kind `restore`): its segments and
   * fields, nothing copied. `If-Match` as for other writes; 410 once the version is collected. With
   * an `idempotencyKey`, a repeated restore answers the first one's context, making no other version.
   */
  async restore(
    tenantId: string,
    id: string,
    version: number,
    expectedVersion?: number,
    requestId?: string,
    idempotencyKey?: string,
  ): Promise<WriteResult> {
    const requestDigest = idempotencyKey ? restoreDigest(id, version) : null;
    const replay = async () =>
      idempotencyKey ? await this.restoreReplay(tenantId, idempotencyKey, requestDigest) : null;
    const earlier = await replay();
    if (earlier) return earlier;
    const current = await this.writableCurrent(tenantId, id, expectedVersion);
    const { segs } = await this.atVersion(tenantId, id, version, NO_TAIL, current);
    const staged = segs.find((seg) => seg.state === 'staged');
    const jobId = staged ? this.deps.jobs.uploadJobId(staged.context_id, staged.version) : null;
    const outcome = await this.deps.segments.restoreVersion(
      id,
      current.version,
      version,
      jobId,
      this.deps.blobs.kind,
      idempotencyKey && requestDigest ? { key: idempotencyKey, fingerprint: requestDigest } : null,
    );
    if (outcome === 'moved') {
      // a concurrent restore with the same key may be what moved it: then this one answers as that one
      const winner = await replay();
      if (winner) return winner;
      throw new VersionConflictError(
        `context ${id} was changed by another write (version ${current.version} is no longer current)`,
      );
    }
    if (outcome === 'collected') throw await this.gone(current, version);
    const { row } = outcome;
    this.deps.logger.debug({ id, version, restored_as: row.version, requestId }, 'version restored');
    await this.manifest({ row, kind: 'restore', segments: segs, source: { context_id: id, version } });
    await this.compactIfDue(outcome);
    if (row.status !== 'pending') return { state: 'stored', context: toContextView(row) };
    return { state: 'pending', id, version: row.version, job_id: jobId ?? row.job_id ?? '' };
  }

  /**
   * A new context sharing the segments of a kept version of this one (the current one by
   * default): copy-on-write, so it costs one row and one version whatever the size, and appends to
   * either never touch the other. A version still being stored cannot be forked yet (409). With
   * an `idempotencyKey`, a repeated fork answers the first one's context.
   */
  async fork(
    tenantId: string,
    id: string,
    input: ForkInput,
    requestId?: string,
    idempotencyKey?: string,
  ): Promise<WriteResult> {
    const requestDigest = idempotencyKey ? new RequestFingerprint({ fork_of: id, ...input }).digest() : null;
    if (idempotencyKey) {
      const earlier = await this.deps.contexts.findByIdempotencyKey(tenantId, idempotencyKey);
      if (earlier) return this.replayOf(earlier, idempotencyKey, requestDigest);
    }
    const source = await this.live(tenantId, id);
    const version = input.version ?? source.version;
    const { row: at, segs } = await this.atVersion(tenantId, id, version, NO_TAIL, source);
    if (segs.some((seg) => seg.state === 'staged')) {
      throw new VersionConflictError(
        `version ${version} of context ${id} is still being stored; fork it once its status is stored`,
        { version, status: 'pending' },
      );
    }
    await this.checkQuotas(tenantId, true);
    const now = new Date();
    const expiresAt = expiryOf(input, now);
    const row: ContextRow = {
      ...at,
      id: newContextId(),
      version: 1,
      agent_id: input.agent_id ?? at.agent_id,
      session_id: input.session_id ?? at.session_id,
      name: input.name ?? at.name,
      metadata: input.metadata ?? at.metadata,
      expires_at: expiresAt ? new Date(expiresAt) : at.expires_at,
      job_id: null,
      last_error: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
      idempotency_key: idempotencyKey ?? null,
      idempotency_fingerprint: requestDigest,
    };
    let outcome: CommittedVersion | CopyRefusal;
    try {
      outcome = await this.deps.segments.forkContext(row, id, version, this.deps.blobs.kind);
    } catch (err) {
      if (idempotencyKey && isUniqueViolation(err)) {
        // a concurrent fork with the same key won the race: answer with its context
        const winner = await this.deps.contexts.findByIdempotencyKey(tenantId, idempotencyKey);
        if (winner) return this.replayOf(winner, idempotencyKey, requestDigest);
      }
      throw err;
    }
    if (outcome === 'moved') throw new NotFoundError(`no context ${id}`);
    if (outcome === 'collected') throw await this.gone(source, version);
    this.deps.logger.debug({ id: row.id, source: id, version, requestId }, 'context forked');
    await this.manifest({ row: outcome.row, kind: 'fork', segments: segs, source: { context_id: id, version } });
    return { state: 'stored', context: toContextView(outcome.row) };
  }

  /**
   * The row and segments of the version a read asks for: the current one, or a kept old one as it
   * stood then (its fields and totals). 404 for a version the context never had, 410 (with when)
   * for one the lifecycle pass collected.
   */
  private async atVersion(
    tenantId: string,
    id: string,
    version: number | undefined,
    tail: TailHint,
    live?: ContextRow,
  ): Promise<OpenedRead> {
    if (version === undefined) return this.opened(tenantId, id, tail);
    const lookups = this.deps.segments;
    const reader = this.reader;
    const row = live ?? (await this.live(tenantId, id));
    if (version > row.version) {
      throw new NotFoundError(`context ${id} has no version ${version} (its current version is ${row.version})`);
    }
    if (version === row.version) {
      const segs = await this.deps.segments.segmentsOf(id, version);
      if (segs.length > 0) return { row, segs, lookups, reader };
    }
    const record = await this.deps.segments.findVersion(id, version);
    if (!record || record.collected_at) throw await this.gone(row, version, record);
    const segs = await this.deps.segments.segmentsOf(id, version);
    if (segs.length === 0) throw await this.gone(row, version);
    return { row: rowAtVersion(row, record, segs, this.deps.blobs.kind), segs, lookups, reader };
  }

  /** 410 for a version the lifecycle pass collected, saying when (null: before history was kept). */
  private async gone(row: ContextRow, version: number, known?: VersionRecord | null): Promise<GoneError> {
    const record = known === undefined ? await this.deps.segments.findVersion(row.id, version) : known;
    const unknown = record?.collection_time_unknown === true;
    const at = record?.collected_at ? new Date(record.collected_at).toISOString() : null;
    const collectedAt = unknown ? null : at;
    const when = unknown
      ? ` (collected before the rebuild from the bucket of ${at}; when is not known)`
      : collectedAt
        ? ` (collected at ${collectedAt})`
        : '';
    return new GoneError(
      `version ${version} of context ${row.id} is no longer kept${when}; see lifecycle.keep_versions and lifecycle.keep_for`,
      { version, current_version: row.version, collected_at: collectedAt },
    );
  }

  /**
   * The live row and the segments of its version, with the inline bodies and item index of those
   * `tail` names, in one round trip; a reader that looks them up there first. The lifecycle pass
   * may forget a version just superseded while the row is read: then it is read again.
   */
  private async opened(tenantId: string, id: string, tail: TailHint): Promise<OpenedRead> {
    const { cache } = this.deps;
    const held = cache
      ? this.rowsSeen
          .inlineOf(tenantId, id)
          .filter((s) => cache.holds(s.id, s.version))
          .map((s) => s.id)
      : [];
    for (let attempt = 1; ; attempt++) {
      const opened = await this.deps.segments.openLive(tenantId, id, tail, held);
      const row = liveOrNotFound(opened?.row ?? null, id);
      const inline = opened?.segs.filter((s) => s.state === 'inline').map(({ id, version }) => ({ id, version }));
      this.rowsSeen.keep(row, inline);
      if (opened && opened.segs.length > 0) {
        const lookups = openedLookups(this.deps.segments, opened);
        return { row, segs: opened.segs, lookups, reader: this.reader.using(lookups) };
      }
      if (attempt >= 3) throw new TruncatedSegmentError(`version ${row.version} of ${row.id} has no segments`);
    }
  }

  /** `alone`: the segment is its version's only one (a create, a replace), which may go straight to its object. */
  private writeSegment(
    envelope: DocumentEnvelope,
    firstItem: number,
    items: RawItems,
    alone = false,
  ): Promise<NewSegment> {
    return this.writer.write(
      {
        tenantId: envelope.tenant_id,
        contextId: envelope.id,
        version: envelope.version,
        modelId: envelope.model_id,
        format: envelope.format,
        firstItem,
        // as a row would hold them, as the worker's trailer of a staged body names them
        ...(alone && {
          versionFields: envelopeOf({
            ...rowFromEnvelope(envelope),
            version: envelope.version,
            created_at: new Date(envelope.created_at),
          }),
        }),
      },
      items,
    );
  }

  /** The items of a version to write, cut to fit the envelope's max_tokens. */
  private async truncated(
    source: () => RawItems,
    envelope: DocumentEnvelope,
    strategy: TruncationStrategy,
  ): Promise<RawItems> {
    if (!envelope.max_tokens) throw maxTokensRequired('truncate');
    const counter = itemsCounter(this.deps.tokenCounter, envelope.model_id, envelope.format);
    const budget = { max_tokens: envelope.max_tokens, strategy };
    return (await windowOf(source, counter, { format: envelope.format, budget })).items;
  }

  /**
   * The upload job a new segment needs (to be stored, counted, or indexed for search when the API
   * wrote its object), if any.
   */
  private jobIdFor(segment: NewSegment): string | null {
    return segment.state !== 'inline' || !segment.tokens_final
      ? this.deps.jobs.uploadJobId(segment.context_id, segment.version)
      : null;
  }

  /**
   * Removes what a write that lost its commit left: its staged body, or the object it wrote (no
   * segment names it; if this fails, the lifecycle pass removes it as any orphaned object).
   */
  private async dropWritten(segment: NewSegment): Promise<void> {
    if (segment.state === 'staged') await this.deps.staging.remove(segment.context_id, segment.version).catch(() => {});
    if (segment.object_key) await this.deps.blobs.delete(segment.object_key).catch(() => {});
  }

  /** The row this process last saw of a live context, unless there is none or it has expired since. */
  private seenLive(tenantId: string, id: string): ContextRow | undefined {
    const row = this.rowsSeen.get(tenantId, id);
    return row && !hasExpired(row) ? row : undefined;
  }

  /** Whether an append's items will be kept inline (an array under the inline threshold, not truncated). */
  private staysInline(input: AppendItemsInput): boolean {
    if (input.truncate || !Array.isArray(input.items)) return false;
    if (this.deps.settings.provider === 'database') return true;
    let bytes = 0;
    for (const { text } of input.items) bytes += text.length + 1;
    return bytes < this.deps.settings.inlineThreshold;
  }

  private async live(tenantId: string, id: string): Promise<ContextRow> {
    return liveOrNotFound(await this.deps.contexts.findLive(tenantId, id), id);
  }

  private async statusOf(row: ContextRow): Promise<StatusView> {
    let job: JobView | null = null;
    if (row.job_id) {
      job = await this.deps.jobs.getJob(row.job_id, row.tenant_id).catch((err: unknown) => {
        this.deps.logger.warn({ id: row.id, err }, 'job lookup failed');
        return null;
      });
    }
    return {
      id: row.id,
      version: row.version,
      status: row.status,
      tokens_final: row.tokens_final,
      last_error: row.last_error ?? null,
      job,
    };
  }

  /** Moves the row from `current` to the new version, or fails with 409 if someone else did first. */
  private async commitVersion(
    current: ContextRow,
    envelope: DocumentEnvelope,
    segment: NewSegment,
    base: boolean,
    requestId?: string,
  ): Promise<WriteResult> {
    const jobId = this.jobIdFor(segment);
    let committed: CommittedVersion | null;
    try {
      committed = await this.deps.segments.commitVersion({
        contextId: current.id,
        expectedVersion: current.version,
        expectedSegments: current.segment_count,
        patch: { ...rowFromEnvelope(envelope), version: envelope.version, ...(jobId && { job_id: jobId }) },
        segment,
        base,
        provider: this.deps.blobs.kind,
      });
    } catch (err) {
      await this.dropWritten(segment);
      throw err;
    }
    if (!committed) {
      await this.dropWritten(segment);
      throw new VersionConflictError(
        `context ${current.id} was changed by another write (version ${current.version} is no longer current)`,
      );
    }
    return this.afterWrite(committed, segment, requestId);
  }

  /**
   * The live row a new version is written over: 404 if there is none, 412 when If-Match names
   * another version, 403 when the tenant is at its stored-bytes quota.
   */
  private async writableCurrent(
    tenantId: string,
    id: string,
    expectedVersion: number | undefined,
  ): Promise<ContextRow> {
    const current = await this.live(tenantId, id);
    checkPrecondition(current, expectedVersion);
    await this.checkQuotas(tenantId, false);
    return current;
  }

  private async checkQuotas(tenantId: string, creates: boolean): Promise<void> {
    if (this.deps.quotas) await checkQuotas((t) => this.deps.contexts.usage(t), this.deps.quotas, tenantId, creates);
  }

  /**
   * What the first create with an Idempotency-Key answered, as its context stands now, when this
   * request is the same one (rows from before fingerprints were kept are taken as the same).
   */
  private replayOf(row: ContextRow, key: string, requestDigest: string | null): WriteResult {
    assertSameRequest(key, row.id, row.idempotency_fingerprint ?? null, requestDigest);
    return this.replayed(row);
  }

  /** A write's answer given again (`Idempotent-Replayed`): its context as it stands now. */
  private replayed(row: ContextRow): WriteResult {
    if (row.status !== 'pending') return { state: 'stored', context: toContextView(row), replayed: true };
    const jobId = row.job_id ?? this.deps.jobs.uploadJobId(row.id, row.version);
    return { state: 'pending', id: row.id, version: row.version, job_id: jobId, replayed: true };
  }

  /**
   * The answer to a restore repeated with its Idempotency-Key (before its `If-Match` is checked:
   * a retry answers as the first one did), or null when the key made no restore yet. 422 when the
   * key was used for another request.
   */
  async replayedRestore(tenantId: string, id: string, version: number, key: string): Promise<WriteResult | null> {
    return this.restoreReplay(tenantId, key, restoreDigest(id, version));
  }

  /** What the restore a tenant made with this Idempotency-Key answers now (its context as it stands), if it made one. */
  private async restoreReplay(
    tenantId: string,
    key: string,
    requestDigest: string | null,
  ): Promise<WriteResult | null> {
    const earlier = await this.deps.segments.findRestoreByIdempotencyKey(tenantId, key);
    if (!earlier) return null;
    assertSameRequest(key, earlier.context_id, earlier.fingerprint, requestDigest);
    return this.replayed(await this.live(tenantId, earlier.context_id));
  }

  /**
   * Writes the manifest of a version a restore or fork made (one small object), so that a rebuild
   * from the bucket recreates it. The version is committed already, owing it: a failed put is
   * logged, not answered, and the next lifecycle pass writes it.
   */
  private async manifest(version: ManifestedVersion): Promise<void> {
    const { id, version: number } = version.row;
    try {
      await putVersionManifest(this.deps, version);
      await this.deps.segments.manifestStored(id, number);
    } catch (err) {
      this.deps.logger.warn(
        { err, id, version: number },
        'the version manifest could not be written now: the next lifecycle pass writes it',
      );
    }
  }

  /** Whether a committed version's segments cross the compaction settings. */
  private compactionDue({ row, tailBytes }: CommittedVersion): boolean {
    const { maxSegments, maxBytes } = this.deps.settings.compaction;
    return row.segment_count > maxSegments || (row.segment_count > 1 && tailBytes > maxBytes);
  }

  /** Enqueues a compaction when due; a lost enqueue is made up by the next commit. */
  private async compactIfDue(committed: CommittedVersion): Promise<void> {
    if (!this.compactionDue(committed)) return;
    const { row } = committed;
    await this.deps.jobs
      .enqueueCompaction({ contextId: row.id, version: row.version, tenantId: row.tenant_id })
      .catch((err: unknown) => this.deps.logger.warn({ id: row.id, err }, 'could not enqueue a compaction'));
  }

  /**
   * Answers a committed write. A segment that must be uploaded or counted gets its job, enqueued
   * after the commit; a version whose segments cross the compaction settings gets a compaction job.
   */
  private async afterWrite(committed: CommittedVersion, segment: NewSegment, requestId?: string): Promise<WriteResult> {
    const { row } = committed;
    this.rowsSeen.keep(row);
    const job = { contextId: row.id, version: row.version, tenantId: row.tenant_id, requestId };
    const jobId = this.jobIdFor(segment);
    try {
      if (jobId) await this.deps.jobs.enqueueUpload(job);
      if (this.compactionDue(committed)) await this.deps.jobs.enqueueCompaction(job);
    } catch (err) {
      // the staged segment and the row are durable: the worker's reconciler enqueues it later
      this.deps.logger.warn(
        { id: row.id, version: row.version, err },
        'could not enqueue a job for this write; the reconciler will retry',
      );
    }
    if (segment.state !== 'staged') return { state: 'stored', context: toContextView(row) };
    return { state: 'pending', id: row.id, version: row.version, job_id: jobId ?? '' };
  }
}

/** A read that needs no segment's body or index up front (whole reads look bodies up in the cache first). */
const NO_TAIL: TailHint = { items: 0, tokens: null };

/** A live context's row and segments as a read opened them, and the reader that streams them. */
interface OpenedRead {
  row: ContextRow;
  segs: Segment[];
  lookups: SegmentLookups;
  reader: SegmentReader;
}

/** The row, unless there is none or it has expired (expired rows are gone at once, before the lifecycle pass). */
function liveOrNotFound(row: ContextRow | null, id: string): ContextRow {
  if (!row || hasExpired(row)) throw new NotFoundError(`no context ${id}`);
  return row;
}

function hasExpired(row: ContextRow): boolean {
  return row.expires_at !== null && row.expires_at !== undefined && new Date(row.expires_at).getTime() <= Date.now();
}

/** What a read answers of a window: its counts. */
function windowFields({ returned, dropped, boundary_dropped, tokens }: ItemWindow): WindowedRead['window'] {
  return { returned, dropped, boundary_dropped, tokens };
}

function itemsOf(reader: SegmentReader, segs: readonly Segment[]): AsyncGenerator<RawItem> {
  return parsedItems(reader.lines(segs));
}

/**
 * The token count of each item in order, as the workers kept them in the segments' item index,
 * so a budget read tokenizes nothing; null unless every one is final and kept.
 */
async function keptCounts(segs: readonly Segment[], lookups: SegmentLookups): Promise<number[] | null> {
  if (!segs.every((s) => s.tokens_final && s.format === 'lines')) return null;
  const index = await lookups.loadIndex(segs.map((s) => s.id));
  const kept: number[] = [];
  for (const seg of segs) {
    const tokens = index.get(seg.id)?.item_tokens;
    if (seg.item_count > 0 && !tokens) return null;
    if (tokens) for (const n of readU32s(tokens)) kept.push(n);
  }
  return kept;
}

function maxTokensRequired(option: 'truncate' | 'strategy'): ValidationError {
  return new ValidationError(`${option} needs a token budget: give max_tokens, or set max_tokens on the context`, [
    { path: 'max_tokens', message: `required with ${option}` },
  ]);
}

/** Items as the lines a read streams: each item's text as stored, then a newline. */
async function* linesOf(items: AsyncIterable<RawItem>): AsyncGenerator<Buffer> {
  for await (const { text } of items) yield Buffer.from(`${text}\n`);
}

/** Items that truncation may read twice: an array, not a stream (NDJSON) that is consumed once read. */
function rereadable(items: RawItems): RawItem[] {
  if (Array.isArray(items)) return items;
  throw new ValidationError('truncate needs the items as a JSON array, not an NDJSON stream', [
    { path: 'truncate', message: 'not with NDJSON' },
  ]);
}

function checkPrecondition(row: ContextRow, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && expectedVersion !== row.version) {
    throw new PreconditionFailedError(`If-Match version ${expectedVersion} is not the current version ${row.version}`, {
      current_version: row.version,
    });
  }
}

/** The fingerprint of a restore request. */
function restoreDigest(id: string, version: number): string {
  return new RequestFingerprint({ restore_of: id, version }).digest();
}

/** 422 when an Idempotency-Key comes back with another request than the one it was first used with. */
function assertSameRequest(key: string, contextId: string, firstDigest: string | null, requestDigest: string | null) {
  if (firstDigest && requestDigest && firstDigest !== requestDigest)
    throw new IdempotencyKeyReusedError(
      `Idempotency-Key "${key}" was first used with a different request (context ${contextId}); use a new key for a new request`,
      { context_id: contextId },
    );
}
