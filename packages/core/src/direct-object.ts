import { Readable } from 'node:stream';
import type { ObjectPlacement } from '@ctxvault/db';
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
  deps: Pick<CoreDeps, 'settings' | 'keyring'> & { blobs: BlobStore & PartUploads },
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
    const result = await sendInParts(deps.blobs, upload, object.body, () => lines.release());
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
 * called once the store has it), the next ones up to `partsInFlight` at once; each is copied out of
 * the body's pieces once full, so memory stays near the parts in flight. Any failure aborts the
 * upload (best effort: the lifecycle pass aborts what is left open).
 */
async function sendInParts(
  store: PartUploads,
  upload: PartUpload,
  body: AsyncIterable<Buffer>,
  landed: () => void,
): Promise<PutResult> {
  const partSize = store.multipartFrom;
  const inFlight = new Set<Promise<void>>();
  const failed: unknown[] = [];
  let number = 0;
  const send = async (part: Buffer): Promise<void> => {
    number++;
    if (number === 1) {
      await upload.sendPart(1, part).catch((err: unknown) => {
        throw new FirstPartFailed('the first part was refused', { cause: err });
      });
      landed();
      return;
    }
    while (inFlight.size >= store.partsInFlight) await Promise.race(inFlight);
    if (failed.length) throw failed[0];
    const sent: Promise<void> = upload
      .sendPart(number, part)
      .catch((err: unknown) => {
        failed.push(err);
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const piece of body) {
      let rest: Buffer = piece;
      while (pendingBytes + rest.length >= partSize) {
        const take = partSize - pendingBytes;
        pending.push(rest.subarray(0, take));
        rest = rest.subarray(take);
        await send(Buffer.concat(pending, partSize));
        pending = [];
        pendingBytes = 0;
      }
      if (rest.length > 0) {
        pending.push(rest);
        pendingBytes += rest.length;
      }
    }
    if (pendingBytes > 0 || number === 0) await send(Buffer.concat(pending, pendingBytes));
    await Promise.all(inFlight);
    if (failed.length) throw failed[0];
    return await upload.complete();
  } catch (err) {
    await Promise.all(inFlight);
    await upload.abort().catch(() => {});
    throw err;
  }
}
