import { type BlobStore, type ObjectInfo, parseObjectKey, tracksIncompleteUploads } from '@ctxvault/storage';
import type { Keyring } from './envelope/keyring.ts';
import type { ContextStore, Logger, SegmentStore, StagingStore, StorageSettings, VersionKeeping } from './ports.ts';
import { DELETED_MARK, manifestId, owedManifest, putVersionManifest } from './version-manifests.ts';
import type { VersionUploader } from './version-uploader.ts';

export interface LifecycleSettings extends VersionKeeping {
  /** object key prefix (storage.context_storage.s3_path_prefix) */
  pathPrefix: string;
  objectGraceMs: number;
  multipartGraceMs: number;
  stagingGraceMs: number;
  pendingGraceMs: number;
}

export interface LifecycleCounts {
  expired_purged: number;
  deleted_purged: number;
  orphan_objects_removed: number;
  /** versions collected (now tombstones: reading them answers 410) */
  versions_collected: number;
  /** segments (and their objects) no version of any context needs any more, removed */
  old_versions_removed: number;
  multipart_uploads_aborted: number;
  staged_bodies_removed: number;
  uploads_requeued: number;
  deletes_requeued: number;
  /** stored segments the workers had not indexed for search, indexed now */
  segments_indexed: number;
  /** manifests of restore and fork versions whose put had failed (or that predate manifests, or were imported), written now */
  manifests_written: number;
}

/**
 * Segments, and bytes of items, indexed for search per pass: a backlog (e.g. after an upgrade) is
 * worked off over several passes, and a pass stays short (trigram inserts take seconds per MiB).
 */
const INDEX_BATCH = 20;
const INDEX_BYTES = 8 * 1024 * 1024;

const BATCH = 500;

/** Owed version manifests written per pass, oldest first (one small object each). */
const MANIFEST_BATCH = 200;

/**
 * One pass of housekeeping: purge expired and deleted contexts, collect objects no row points to
 * and superseded versions, abort stale multipart uploads, remove staging nobody waits for,
 * re-enqueue work whose job was lost, and index for search what the workers did not. Every step is idempotent, so passes may overlap or repeat.
 */
export class LifecycleService {
  constructor(
    private readonly deps: {
      contexts: ContextStore;
      segments: SegmentStore;
      staging: StagingStore;
      blobs: BlobStore;
      uploader: VersionUploader;
      settings: LifecycleSettings;
      /** how objects are written (a manifest is one) */
      storage: StorageSettings;
      keyring?: Keyring;
      logger: Logger;
    },
  ) {}

  async runOnce(now = new Date()): Promise<LifecycleCounts> {
    const counts: LifecycleCounts = {
      expired_purged: await this.purgeExpired(now),
      deleted_purged: await this.purgeDeleted(),
      manifests_written: await this.writeOwedManifests(),
      versions_collected: await this.collectVersions(),
      old_versions_removed: await this.collectSegments(),
      orphan_objects_removed: await this.collectObjects(now),
      multipart_uploads_aborted: await this.abortStaleUploads(now),
      staged_bodies_removed: await this.removeOrphanedStaging(),
      uploads_requeued: 0,
      deletes_requeued: 0,
      segments_indexed: await this.deps.uploader.indexBacklog(
        this.deps.settings.pendingGraceMs,
        INDEX_BATCH,
        INDEX_BYTES,
      ),
    };
    const requeued = await this.deps.uploader.reconcile(this.deps.settings.pendingGraceMs);
    counts.uploads_requeued = requeued.uploads;
    counts.deletes_requeued = requeued.deletes;
    this.deps.logger.info({ ...counts }, 'lifecycle pass finished');
    return counts;
  }

  private async purgeExpired(now: Date): Promise<number> {
    let purged = 0;
    for (const row of await this.deps.contexts.findExpired(now, BATCH)) {
      const marked = await this.deps.contexts.updateIfVersion(row.id, row.version, {
        status: 'deleting',
        deleted_at: now,
      });
      if (marked && (await this.deps.uploader.purge(row.id)) === 'purged') purged++;
    }
    return purged;
  }

  private async purgeDeleted(): Promise<number> {
    let purged = 0;
    // deletes normally finish in their own job within seconds; these are the ones whose job was lost
    for (const row of await this.deps.contexts.findStaleDeleting(this.deps.settings.pendingGraceMs, BATCH)) {
      if ((await this.deps.uploader.purge(row.id)) === 'purged') purged++;
    }
    return purged;
  }

  /**
   * Versions beyond `keepVersions` and `keepForMs` become tombstones; segments no version of any
   * context refers to any more (superseded by a replace, merged by compaction, of collected
   * versions, of deleted contexts no fork shares) are retired.
   */
  private collectVersions(): Promise<number> {
    const { settings } = this.deps;
    return this.deps.segments.retireUnreferenced(settings.objectGraceMs, settings.keepVersions, settings.keepForMs);
  }

  /**
   * Retired segments are removed with their objects once retired for longer than the object
   * grace: a read that began before may still be streaming them. The rows go first (each checked
   * once more for references), so an object is never removed while a row still points to it.
   */
  private async collectSegments(): Promise<number> {
    const { segments, blobs, settings } = this.deps;
    let removed = 0;
    for (let batch = await segments.findRetired(settings.objectGraceMs, BATCH); batch.length > 0; ) {
      for (const key of await segments.remove(batch.map((seg) => seg.id))) await blobs.delete(key);
      removed += batch.length;
      if (batch.length < BATCH) break;
      batch = await segments.findRetired(settings.objectGraceMs, BATCH);
    }
    return removed;
  }

  /** Objects no segment refers to (an upload or compaction that died before its commit): listed in key order, one context at a time. */
  private async collectObjects(now: Date): Promise<number> {
    let removed = 0;
    let group = null as { id: string; objects: ObjectInfo[] } | null;
    const flush = async () => {
      if (group) removed += await this.collectContext(group.id, group.objects, now);
    };
    for await (const info of this.deps.blobs.list(`${this.deps.settings.pathPrefix}/`)) {
      const parsed = parseObjectKey(info.key);
      if (!parsed || parsed.prefix !== this.deps.settings.pathPrefix) continue;
      if (group?.id !== parsed.id) {
        await flush();
        group = { id: parsed.id, objects: [] };
      }
      group.objects.push(info);
    }
    await flush();
    return removed;
  }

  private async collectContext(id: string, objects: ObjectInfo[], now: Date): Promise<number> {
    const settled = objects.filter(
      (info) => !info.lastModified || now.getTime() - info.lastModified.getTime() >= this.deps.settings.objectGraceMs,
    );
    if (settled.length === 0) return 0;
    const row = await this.deps.contexts.findAny(id);
    if (row?.status === 'deleting') return 0;
    // segments outlive their context's row while a fork shares them: ask the segments, not the row
    const referenced = await this.deps.segments.objectKeysOf(id);
    // manifests of kept restores and forks stay with their version; the mark of a purged context
    // whose segments a fork shares stays with the last of them (docs/storage-model.md)
    const manifests = new Set((await this.deps.segments.manifestedVersionsOf(id)).map((v) => manifestId(id, v)));
    if (referenced.size > 0 && !row) manifests.add(manifestId(id, DELETED_MARK));
    const kept = (info: ObjectInfo) => {
      const segment = parseObjectKey(info.key)?.segment;
      return referenced.has(info.key) || (segment !== undefined && manifests.has(segment));
    };
    const orphans = settled.filter((info) => !kept(info));
    for (const info of orphans) await this.deps.blobs.delete(info.key);
    return orphans.length;
  }

  /**
   * Writes the manifests still owed (docs/storage-model.md, "Version manifests"), oldest first, a
   * batch per pass: each as the request that made the version would have. One that fails again is
   * left owed for the next pass.
   */
  private async writeOwedManifests(): Promise<number> {
    const { contexts, segments, blobs, storage, keyring, logger } = this.deps;
    let written = 0;
    for (const owed of await segments.findManifestsOwed(MANIFEST_BATCH)) {
      const live = await contexts.findAny(owed.context_id);
      if (!live) continue;
      const segs = await segments.segmentsOf(owed.context_id, owed.version);
      try {
        await putVersionManifest({ blobs, settings: storage, keyring }, owedManifest(owed, live, segs));
      } catch (err) {
        logger.warn(
          { err, id: owed.context_id, version: owed.version },
          'an owed version manifest could not be written',
        );
        continue;
      }
      await segments.manifestStored(owed.context_id, owed.version);
      written++;
    }
    return written;
  }

  private async abortStaleUploads(now: Date): Promise<number> {
    const { blobs, settings } = this.deps;
    if (!tracksIncompleteUploads(blobs)) return 0;
    let aborted = 0;
    for await (const upload of blobs.listIncompleteUploads(`${settings.pathPrefix}/`)) {
      const age = upload.initiated ? now.getTime() - upload.initiated.getTime() : Infinity;
      if (age < settings.multipartGraceMs) continue;
      await blobs.abortIncompleteUpload(upload.key, upload.uploadId);
      aborted++;
    }
    return aborted;
  }

  private async removeOrphanedStaging(): Promise<number> {
    const orphans = await this.deps.staging.findOrphans(this.deps.settings.stagingGraceMs, BATCH);
    for (const { context_id, version } of orphans) await this.deps.staging.remove(context_id, version);
    return orphans.length;
  }
}
