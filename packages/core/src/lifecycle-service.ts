import { type BlobStore, type ObjectInfo, parseObjectKey, tracksIncompleteUploads } from '@ctxvault/storage';
import type { ContextStore, Logger, StagingStore } from './ports.ts';
import type { VersionUploader } from './version-uploader.ts';

export interface LifecycleSettings {
  /** object key prefix (storage.context_storage.s3_path_prefix) */
  pathPrefix: string;
  /** superseded object versions kept besides the current one */
  keepVersions: number;
  objectGraceMs: number;
  multipartGraceMs: number;
  stagingGraceMs: number;
  pendingGraceMs: number;
}

export interface LifecycleCounts {
  expired_purged: number;
  deleted_purged: number;
  orphan_objects_removed: number;
  old_versions_removed: number;
  multipart_uploads_aborted: number;
  staged_bodies_removed: number;
  uploads_requeued: number;
  deletes_requeued: number;
}

const BATCH = 500;

/**
 * One pass of housekeeping: purge expired and deleted contexts, collect objects no row points to
 * and superseded versions, abort stale multipart uploads, remove staging nobody waits for, and
 * re-enqueue work whose job was lost. Every step is idempotent, so passes may overlap or repeat.
 */
export class LifecycleService {
  constructor(
    private readonly deps: {
      contexts: ContextStore;
      staging: StagingStore;
      blobs: BlobStore;
      uploader: VersionUploader;
      settings: LifecycleSettings;
      logger: Logger;
    },
  ) {}

  async runOnce(now = new Date()): Promise<LifecycleCounts> {
    const counts: LifecycleCounts = {
      expired_purged: await this.purgeExpired(now),
      deleted_purged: await this.purgeDeleted(),
      ...(await this.collectObjects(now)),
      multipart_uploads_aborted: await this.abortStaleUploads(now),
      staged_bodies_removed: await this.removeOrphanedStaging(),
      uploads_requeued: 0,
      deletes_requeued: 0,
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

  /** Objects are listed in key order, so all versions of one context arrive together. */
  private async collectObjects(
    now: Date,
  ): Promise<Pick<LifecycleCounts, 'orphan_objects_removed' | 'old_versions_removed'>> {
    const result = { orphan_objects_removed: 0, old_versions_removed: 0 };
    type Group = { id: string; objects: { info: ObjectInfo; version: number }[] };
    let group = null as Group | null;
    const flush = async () => {
      if (!group) return;
      const removed = await this.collectContext(group.id, group.objects, now);
      result.orphan_objects_removed += removed.orphans;
      result.old_versions_removed += removed.oldVersions;
    };
    for await (const info of this.deps.blobs.list(`${this.deps.settings.pathPrefix}/`)) {
      const parsed = parseObjectKey(info.key);
      if (!parsed || parsed.prefix !== this.deps.settings.pathPrefix) continue;
      if (group?.id !== parsed.id) {
        await flush();
        group = { id: parsed.id, objects: [] };
      }
      group.objects.push({ info, version: parsed.version });
    }
    await flush();
    return result;
  }

  private async collectContext(
    id: string,
    objects: { info: ObjectInfo; version: number }[],
    now: Date,
  ): Promise<{ orphans: number; oldVersions: number }> {
    const settled = objects.filter(
      ({ info }) =>
        !info.lastModified || now.getTime() - info.lastModified.getTime() >= this.deps.settings.objectGraceMs,
    );
    if (settled.length === 0) return { orphans: 0, oldVersions: 0 };
    const row = await this.deps.contexts.findAny(id);
    if (!row) {
      for (const { info } of settled) await this.deps.blobs.delete(info.key);
      return { orphans: settled.length, oldVersions: 0 };
    }
    if (row.status === 'deleting') return { orphans: 0, oldVersions: 0 };
    // keep the current object, anything at or above the row's version (an upload may be landing),
    // and the newest `keepVersions` superseded ones
    const superseded = settled
      .filter(({ version, info }) => version < row.version && info.key !== row.storage_key)
      .sort((a, b) => b.version - a.version)
      .slice(this.deps.settings.keepVersions);
    for (const { info } of superseded) await this.deps.blobs.delete(info.key);
    return { orphans: 0, oldVersions: superseded.length };
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
