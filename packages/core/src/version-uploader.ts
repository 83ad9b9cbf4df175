import { createHash } from 'node:crypto';
import { pipeline, Readable, type Transform } from 'node:stream';
import type { ByteProgress } from '@ctxvault/queue';
import { codecSuffix, compressor, contextPrefix, objectKey, tracksIncompleteUploads } from '@ctxvault/storage';
import type { CoreDeps } from './ports.ts';

export type VersionUploaderDeps = CoreDeps;

export type UploadOutcome = 'stored' | 'superseded' | 'gone';

/** The worker's side of a context: moving staged versions into the blob store, purging deleted ones. */
export class VersionUploader {
  constructor(private readonly deps: VersionUploaderDeps) {}

  /**
   * Uploads a staged version and flips its row to `stored` in one statement. Idempotent: a version
   * that is already stored, superseded or deleted is left alone.
   */
  async store(
    contextId: string,
    version: number,
    onProgress: (p: ByteProgress) => Promise<void> | void,
  ): Promise<UploadOutcome> {
    const { contexts, staging, blobs } = this.deps;
    const { codec, codecLevel, pathPrefix } = this.deps.settings;
    const key = objectKey(pathPrefix, contextId, version, codecSuffix(codec));
    const row = await contexts.findAny(contextId);
    if (!row || row.status === 'deleting') {
      await staging.remove(contextId, version);
      // a predecessor killed mid-upload may have left its upload open: nobody else will end it
      await this.abortIncompleteUploads(key);
      return 'gone';
    }
    if (row.version !== version || (row.status !== 'pending' && row.status !== 'failed')) {
      if (row.version > version) await staging.remove(contextId, version);
      await this.abortIncompleteUploads(key);
      return 'superseded';
    }

    // a predecessor that crashed mid-upload left its parts behind: this attempt starts afresh
    await this.abortIncompleteUploads(key);
    const total = Number(row.size_bytes);
    const hash = createHash('sha256');
    let read = 0;
    const staged = staging.read(contextId, version);
    // a generator, not .pipe(): a failing staging read must fail the upload, not stall it.
    // Progress counts body bytes read, so it means the same with or without compression; it stays
    // below 100 % until the store has accepted the bytes (the last parts may still be in flight).
    const body = Readable.from(
      (async function* () {
        for await (const chunk of staged) {
          hash.update(chunk as Buffer);
          read += (chunk as Buffer).length;
          const percent = total ? Math.min(99, Math.floor((read / total) * 100)) : 0;
          void onProgress({ bytes: read, total, percent });
          yield chunk as Buffer;
        }
      })(),
    );
    const encoded = codec === 'identity' ? body : pipelineStream(body, compressor(codec, codecLevel));
    const result = await blobs.put(key, encoded, {
      contentLength: codec === 'identity' ? total : undefined,
      contentType: 'application/json',
      metadata: {
        'context-id': contextId,
        version: String(version),
        sha256: row.sha256 ?? '',
        'content-encoding': codec,
      },
    });
    const sha256 = hash.digest('hex');
    if (read !== total || (row.sha256 && sha256 !== row.sha256)) {
      await blobs.delete(key);
      throw new Error(
        `staged body of ${contextId} v${version} does not match its row (size ${read}/${total}, sha256 ${sha256})`,
      );
    }

    // full progress is recorded before the row flips, so whoever sees `stored` sees 100 %
    await onProgress({ bytes: total, total, percent: 100 });
    const flipped = await contexts.updateIfVersion(
      contextId,
      version,
      {
        status: 'stored',
        storage_provider: blobs.kind,
        storage_key: key,
        etag: result.etag,
        stored_bytes: result.size,
        content_encoding: codec,
        encryption: result.encryption,
        last_error: null,
      },
      ['pending', 'failed'],
    );
    if (!flipped) {
      // replaced or deleted while we uploaded: our object belongs to no row
      await blobs.delete(key);
      return 'superseded';
    }
    await staging.remove(contextId, version);
    return 'stored';
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
    await this.deps.contexts.updateIfVersion(contextId, version, { status: 'failed', last_error: reason }, [
      'pending',
      'failed',
    ]);
  }

  /** Removes every object version, every staged body and the row of a context marked for deletion. */
  async purge(contextId: string): Promise<'purged' | 'not-deleting'> {
    const row = await this.deps.contexts.findAny(contextId);
    if (row && row.status !== 'deleting') return 'not-deleting';
    await this.deps.blobs.deletePrefix(contextPrefix(this.deps.settings.pathPrefix, contextId));
    await this.deps.staging.remove(contextId);
    await this.deps.contexts.remove(contextId);
    return 'purged';
  }

  /**
   * Re-enqueues work whose job was lost (Redis may forget): pending rows and rows marked for
   * deletion that nobody touched for `staleMs`. Job ids are derived, so live jobs are not doubled.
   */
  async reconcile(staleMs: number): Promise<{ uploads: number; deletes: number }> {
    const { contexts, jobs } = this.deps;
    const pending = await contexts.findStalePending(staleMs, 500);
    for (const row of pending)
      await jobs.enqueueUpload({ contextId: row.id, version: row.version, tenantId: row.tenant_id });
    const deleting = await contexts.findStaleDeleting(staleMs, 500);
    for (const row of deleting) await jobs.enqueueDelete({ contextId: row.id, tenantId: row.tenant_id });
    return { uploads: pending.length, deletes: deleting.length };
  }
}

/** `source` piped into `transform`, with errors of either ending the result (unlike `.pipe`). */
function pipelineStream(source: Readable, transform: Transform): Transform {
  return pipeline(source, transform, () => {});
}
