import { Readable } from 'node:stream';
import { type ChunkBuffers, type ObjectPlacement, rechunk } from '@ctxvault/db';
import type { BlobStore, PartUpload, PartUploads, PutResult } from '@ctxvault/storage';
import type { HeldLines } from './held-lines.ts';
import type { CoreDeps } from './ports.ts';
import { encodeSegmentObject, type ObjectSegment, placementOf } from './segment-objects.ts';

/** The first part of a direct upload did not land: the write may still go elsewhere. */
class FirstPartFailed extends Error {}

/**
 * Writes a segment's object as its lines arrive (docs/storage-model.md, "Writing a large create
 * straight to its object"): a multipart upload, its parts sent as the encoded lines fill them,
 * its trailer (`trailer()`, once the lines have ended) last. Returns where the object went; or
 * null, with nothing stored, when the store refused the upload or its first part (it is down):
 * the lines not released (`lines.rest()`) then go elsewhere. A later failure of the store, or any
 * failure of the lines, aborts the upload and is thrown.
 */
export async function writeObjectDirect(
  deps: Pick<CoreDeps, 'settings' | 'keyring'> & { blobs: BlobStore & PartUploads; partBuffers: ChunkBuffers },
  seg: ObjectSegment,
  lines: HeldLines,
  trailer: () => Buffer,
): Promise<ObjectPlacement | null> {
  const plain = Readable.from(lines.forUpload(trailer));
  try {
    const object = await encodeSegmentObject(deps, seg, plain);
    let upload: PartUpload;
    try {
      upload = await deps.blobs.startUpload(object.key, object.options);
    } catch {
      return null;
    }
    const result = await sendInParts(deps.blobs, upload, object.body, deps.partBuffers, () => lines.release());
    return placementOf(deps.settings, object.key, result);
  } catch (err) {
    if (err instanceof FirstPartFailed) return null;
    throw err;
  } finally {
    plain.destroy();
  }
}

/**
 * Sends `body` as the upload's parts and completes it. The first part goes alone (`landed` is
 * called once the store has it), the next ones up to `partsInFlight` at once. Each part is copied
 * out of the body's pieces into one of `buffers`, given back once its request has ended: on this
 * kind of VM a fresh part-sized buffer costs tens of ms of page faults on the event loop. Any
 * failure aborts the upload (best effort: the lifecycle pass aborts what is left open).
 */
async function sendInParts(
  store: PartUploads,
  upload: PartUpload,
  body: AsyncIterable<Buffer>,
  buffers: ChunkBuffers,
  landed: () => void,
): Promise<PutResult> {
  const inFlight = new Set<Promise<void>>();
  const failed: unknown[] = [];
  let number = 0;
  try {
    for await (const part of rechunk(body, store.multipartFrom, buffers)) {
      number++;
      if (number === 1) {
        try {
          await upload.sendPart(1, part);
        } catch (err) {
          throw new FirstPartFailed('the first part was refused', { cause: err });
        } finally {
          buffers.give(part);
        }
        landed();
        continue;
      }
      while (inFlight.size >= store.partsInFlight) await Promise.race(inFlight);
      if (failed.length) throw failed[0];
      const sent: Promise<void> = upload
        .sendPart(number, part)
        .catch((err: unknown) => {
          failed.push(err);
        })
        .finally(() => {
          inFlight.delete(sent);
          buffers.give(part);
        });
      inFlight.add(sent);
    }
    await Promise.all(inFlight);
    if (failed.length) throw failed[0];
    return await upload.complete();
  } catch (err) {
    await Promise.all(inFlight);
    await upload.abort().catch(() => {});
    throw err;
  }
}
