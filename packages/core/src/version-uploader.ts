import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ContextRow, Segment, SegmentCounts } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import type { ByteProgress } from '@ctxvault/queue';
import { contextPrefix, parseObjectKey, tracksIncompleteUploads, unseal } from '@ctxvault/storage';
import type { CoreDeps, VersionKeeping } from './ports.ts';
import { indexSegment } from './search-index.ts';
import { LineCounting, segmentCounts } from './segment-counting.ts';
import { type WriteRecovery, writeTrailerLine } from './segment-format.ts';
import { objectKeyOf, putSegmentObject, sealingOf } from './segment-objects.ts';
import { SegmentReader } from './segment-reader.ts';
import type { TokenCounter } from './token-counter.ts';
import { DELETED_MARK, manifestId, putDeletionMark } from './version-manifests.ts';
import { envelopeOf } from './views.ts';

/** What the workers' services (uploads, compaction) are built from. */
export interface WorkerDeps extends CoreDeps {
  /** counts the tokens of segments the API left uncounted (off the event loop) */
  tokenCounter: TokenCounter;
}

export interface VersionUploaderDeps extends WorkerDeps {
  /** the versions the lifecycle keeps: a segment only superseded ones need is uploaded only while one of them is kept */
  keeping: VersionKeeping;
}

export type UploadOutcome = 'stored' | 'counted' | 'superseded' | 'gone';

/**
 * The worker's side of a context: storing staged segments in the blob store, counting their
 * tokens, and purging deleted contexts. Compaction lives in compactor.ts.
 */
export class VersionUploader {
  private readonly reader: SegmentReader;
  /** the search indexing this process still owes, in order (see `indexLater`) */
  private indexing: Promise<void> = Promise.resolve();
  /** aborted by `closeIndexing`: what is left is the lifecycle pass's */
  private readonly stopIndexing = new AbortController();

  constructor(private readonly deps: VersionUploaderDeps) {
    this.reader = new SegmentReader(deps.segments, deps.staging, deps.blobs, undefined, deps.keyring);
  }

  /**
   * Uploads the segment the write of `version` made (when staged) and flips it to stored, and counts
   * its tokens (when the API left them) from the same staged bytes as they are uploaded, in the
   * counting threads, as far as they keep up (the rest is read again after): `stored` does not wait
   * for the count. Idempotent: a segment already stored and counted, or deleted, is left alone; so
   * is one a replace superseded that no version the lifecycle keeps needs (those versions are
   * collected at once).
   */
  async store(
    contextId: string,
    version: number,
    onProgress: (p: ByteProgress) => Promise<void> | void,
  ): Promise<UploadOutcome> {
    const { staging, segments } = this.deps;
    const { row, write: seg, current } = await segments.openUpload(contextId, version);
    if (!row || row.status === 'deleting' || !seg) {
      await staging.remove(contextId, version);
      // a predecessor killed mid-upload may have left its upload open: nobody else will end it
      if (seg) await this.abortIncompleteUploads(objectKeyOf(this.deps.settings, seg));
      return 'gone';
    }
    const { keepVersions, keepForMs } = this.deps.keeping;
    if (
      !current.some((s) => s.id === seg.id) &&
      (await segments.keptOrCollected(seg.id, keepVersions, keepForMs)) === 'collected'
    ) {
      // a replace made it garbage before it was stored, and no kept version needs it: nothing to upload or count
      await staging.remove(contextId, version);
      await this.abortIncompleteUploads(objectKeyOf(this.deps.settings, seg));
      return 'superseded';
    }
    const modelId = row.model_id ?? null;
    const format = row.format as Format;
    let outcome: UploadOutcome = 'counted';
    let counted = seg.tokens_final;
    if (seg.state === 'staged') {
      // counting keeps up with the upload where it can, and never slows it: what it left is read again after.
      // Only item lines are counted on the way (a staged body of the layout before segments is one document).
      const counting =
        counted || seg.format !== 'lines' ? null : new LineCounting(this.deps.tokenCounter, modelId, format, true);
      await this.upload(seg, await this.recoveryOf(row, seg, current), onProgress, counting);
      outcome = 'stored';
      if (counting) {
        await counting.catchUp((skip) => this.reader.lines([seg], skip));
        await this.deps.segments.finalizeTokens(seg, await counting.counts(), this.deps.blobs.kind);
        counted = true;
      }
    }
    if (!counted) await this.count(seg, modelId, format);
    await staging.remove(contextId, version);
    this.indexLater(seg.id, format);
    return outcome;
  }

  /**
   * Indexes a stored segment for search after its job has ended, one segment at a time per
   * process: the trigram index makes its inserts slow (tens of seconds for a 12 MiB segment on a
   * busy machine), and an upload job held that long would keep a queue slot and hold the next
   * uploads back. A search meanwhile reads the segment, as it reads one not indexed yet; what this
   * process does not get to (it stopped, or the indexing failed) the lifecycle pass indexes from
   * its backlog.
   */
  private indexLater(segmentId: string, format: Format): void {
    const { segments, logger } = this.deps;
    const { signal } = this.stopIndexing;
    const stopped = () =>
      logger.info({ segment_id: segmentId }, 'search indexing stopped by shutdown; the lifecycle pass will index it');
    this.indexing = this.indexing.then(async () => {
      // a shutdown may come before this segment's turn (its job was still counting, or another
      // segment was being indexed)
      if (signal.aborted) return stopped();
      try {
        // read afresh: what was just uploaded is read back from the blob store, not from staging
        const seg = await segments.findSegment(segmentId);
        if (seg?.state !== 'stored' || (await indexSegment(segments, this.reader, seg, format, signal))) return;
        if (signal.aborted) stopped();
      } catch (err) {
        logger.warn({ err, segment_id: segmentId }, 'search indexing failed; the lifecycle pass will index it');
      }
    });
  }

  /** Settles once the indexing of every segment this process has stored so far has ended. */
  indexed(): Promise<void> {
    return this.indexing;
  }

  /**
   * For a graceful shutdown, once no job runs any more: lets the indexing this process owes go on
   * for up to `graceMs`, then stops it before its next write (the segments left unmarked are the
   * lifecycle pass's backlog), and settles when nothing touches the index any more, so the
   * connections can close under no query. Safe to call twice.
   */
  async closeIndexing(graceMs: number): Promise<void> {
    // no grace: stopped at once, before any write the indexing under way has not begun
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([this.indexing, grace]);
      clearTimeout(timer);
    }
    this.stopIndexing.abort();
    await this.indexing;
  }

  /**
   * What the object's trailer tells a rebuild from the bucket: the version the segment was written
   * for, with that version's segments and fields, so that every kept version can be rebuilt; the
   * current version when the segment's own one no longer names it (collected meanwhile).
   */
  private async recoveryOf(row: ContextRow, seg: Segment, current: Segment[]): Promise<WriteRecovery> {
    if (seg.version !== row.version) {
      const { segments } = this.deps;
      const own = await segments.segmentsOf(row.id, seg.version);
      if (own.some((s) => s.id === seg.id)) {
        const fields = (await segments.findVersion(row.id, seg.version))?.envelope;
        return { context: envelopeOf({ ...row, ...fields, version: seg.version }), list: listOf(seg.version, own) };
      }
    }
    return { context: envelopeOf(row), list: listOf(row.version, current) };
  }

  /** Uploads a staged segment (its items, then its trailer) and marks it stored; `counting` sees the items' bytes on the way. */
  private async upload(
    seg: Segment,
    recovery: WriteRecovery,
    onProgress: (p: ByteProgress) => Promise<void> | void,
    counting: LineCounting | null,
  ): Promise<void> {
    const { staging, blobs, segments } = this.deps;
    const key = objectKeyOf(this.deps.settings, seg);
    const total = seg.size_bytes;
    const trailer = seg.format === 'lines' ? writeTrailerLine(seg, recovery) : Buffer.alloc(0);
    // a predecessor that crashed mid-upload left its parts behind: this attempt starts afresh
    // (an object too small to go as a multipart upload never left any: no listing for it)
    if (this.mayGoMultipart(total + trailer.length)) await this.abortIncompleteUploads(key);
    const hash = createHash('sha256');
    let read = 0;
    let reported = -1;
    const sealing = await sealingOf(this.deps.keyring, seg);
    const staged = sealing
      ? unseal(
          await sealing.keyring.sealKeyOf(seg.data_key_id!, seg.id, 'staged'),
          staging.read(seg.context_id, seg.version),
          {
            toEnd: true,
          },
        )
      : staging.read(seg.context_id, seg.version);
    // a generator, not .pipe(): a failing staging read must fail the upload, not stall it.
    // Progress counts item bytes read; it stays below 100 % until the store has accepted the bytes.
    const body = Readable.from(
      (async function* () {
        for await (const chunk of staged) {
          hash.update(chunk as Buffer);
          read += (chunk as Buffer).length;
          const percent = total ? Math.min(99, Math.floor((read / total) * 100)) : 0;
          // once a percent (a Redis call each), not once a piece of the staged read (64 KiB or less)
          if (percent !== reported) void onProgress({ bytes: read, total, percent });
          reported = percent;
          await counting?.push(chunk as Buffer);
          yield chunk as Buffer;
        }
        if (trailer.length) yield trailer;
      })(),
    );
    const placement = await putSegmentObject(this.deps, seg, body, {
      plainLength: total + trailer.length,
      contentType: seg.format === 'lines' ? 'application/x-ndjson' : 'application/json',
    });
    const sha256 = hash.digest('hex');
    if (read !== total || (seg.sha256 && sha256 !== seg.sha256)) {
      await blobs.delete(key);
      throw new Error(
        `staged segment of ${seg.context_id} v${seg.version} does not match its row (size ${read}/${total}, sha256 ${sha256})`,
      );
    }
    // full progress is recorded before the segment flips, so whoever sees `stored` sees 100 %
    await onProgress({ bytes: total, total, percent: 100 });
    await segments.markStored(seg, placement, blobs.kind);
  }

  /** Counts a stored segment's tokens (read back from the store) off the event loop and records them. */
  private async count(seg: Segment, modelId: string | null, format: Format): Promise<void> {
    const counts: SegmentCounts = await segmentCounts(
      this.reader.lines([seg]),
      this.deps.tokenCounter,
      modelId,
      format,
    );
    await this.deps.segments.finalizeTokens(seg, counts, this.deps.blobs.kind);
  }

  /**
   * Whether an object of `plainBytes` (items and trailer) may reach the store's multipart size once
   * compressed (at worst a little larger than it came) and sealed (16 bytes a 64 KiB frame).
   */
  private mayGoMultipart(plainBytes: number): boolean {
    const { blobs, settings } = this.deps;
    if (!tracksIncompleteUploads(blobs)) return false;
    const encoded = plainBytes + (settings.codec === 'identity' ? 0 : Math.ceil(plainBytes / 128) + 1024);
    const stored = encoded + Math.ceil(encoded / 2048) + 64;
    return !(stored < blobs.multipartFrom);
  }

  private async abortIncompleteUploads(key: string): Promise<void> {
    const { blobs } = this.deps;
    if (!tracksIncompleteUploads(blobs)) return;
    for await (const upload of blobs.listIncompleteUploads(key)) {
      if (upload.key === key) await blobs.abortIncompleteUpload(upload.key, upload.uploadId);
    }
  }

  /** Records that a version's upload failed for good (again, after a retry from the dashboard or admin API). */
  async markFailed(contextId: string, version: number, reason: string): Promise<void> {
    // only a segment that never reached the blob store fails its context; a failed count is retried by the reconciler
    const seg = await this.deps.segments.findWrite(contextId, version);
    const row = await this.deps.contexts.findAny(contextId);
    if (seg?.state !== 'staged' || !row) return;
    await this.deps.contexts.updateIfVersion(contextId, row.version, { status: 'failed', last_error: reason }, [
      'pending',
      'failed',
    ]);
  }

  /**
   * Removes the row, versions, staged bodies and segments of a context marked for deletion, and
   * their objects — but not the segments a fork still shares (their rows and objects stay until
   * the lifecycle pass finds no version referring to them). Forks share only stored segments, so
   * no staged body is needed by another context.
   */
  async purge(contextId: string): Promise<'purged' | 'not-deleting'> {
    const { contexts, segments, staging, blobs, settings } = this.deps;
    const row = await contexts.findAny(contextId);
    if (row && row.status !== 'deleting') return 'not-deleting';
    const shared = await segments.removeContext(contextId);
    const prefix = contextPrefix(settings.pathPrefix, contextId);
    if (shared.size === 0) await blobs.deletePrefix(prefix);
    else {
      // what stays under its prefix must not bring it back in a rebuild from the bucket
      await putDeletionMark(this.deps, contextId);
      const mark = manifestId(contextId, DELETED_MARK);
      for await (const info of blobs.list(prefix)) {
        if (!shared.has(info.key) && parseObjectKey(info.key)?.segment !== mark) await blobs.delete(info.key);
      }
    }
    await staging.remove(contextId);
    await contexts.remove(contextId);
    return 'purged';
  }

  /**
   * Indexes for search up to `limit` stored segments (and `maxBytes` of items, or one segment
   * larger than that) the index does not hold, untouched for `staleMs`: those stored before the
   * workers indexed, or whose indexing failed. Returns how many.
   */
  async indexBacklog(staleMs: number, limit: number, maxBytes: number): Promise<number> {
    const backlog = await this.deps.segments.findUnindexed(staleMs, limit, maxBytes);
    let failed = 0;
    for (const { context_format, ...seg } of backlog) {
      // one segment that cannot be read (its context purged meanwhile, its object lost) holds up
      // neither the others nor the rest of the pass; a search reads it itself
      try {
        await indexSegment(this.deps.segments, this.reader, seg, context_format as Format);
      } catch (err) {
        failed++;
        await this.deps.segments.markSearchFailed(seg.id);
        this.deps.logger.warn(
          { err, segment_id: seg.id },
          'search indexing failed; the next lifecycle pass tries again',
        );
      }
    }
    return backlog.length - failed;
  }

  /**
   * Re-enqueues work whose job was lost (Redis may forget): segments still staged or uncounted and
   * rows marked for deletion that nobody touched for `staleMs`. Job ids are derived, so live jobs are not doubled.
   */
  async reconcile(staleMs: number): Promise<{ uploads: number; deletes: number }> {
    const { contexts, segments, jobs } = this.deps;
    const unsettled = await segments.findUnsettled(staleMs, 500);
    for (const s of unsettled) {
      await jobs.enqueueUpload({ contextId: s.context_id, version: s.version, tenantId: s.tenant_id });
    }
    const deleting = await contexts.findStaleDeleting(staleMs, 500);
    for (const row of deleting) await jobs.enqueueDelete({ contextId: row.id, tenantId: row.tenant_id });
    return { uploads: unsettled.length, deletes: deleting.length };
  }
}

/** A version's list of segments as a trailer names it (for a rebuild from the bucket). */
export function listOf(version: number, segs: readonly Pick<Segment, 'id'>[]): { version: number; segments: string[] } {
  return { version, segments: segs.map((s) => s.id) };
}
