import { pipeline, Readable, type Transform } from 'node:stream';
import type { ObjectPlacement, Segment } from '@ctxvault/db';
import {
  codecSuffix,
  compressor,
  FRAME_SIZE,
  type PutOptions,
  type PutResult,
  seal,
  sealBuffer,
  sealedSize,
  sealKey,
  segmentKey,
} from '@ctxvault/storage';
import type { DataKey, Keyring } from './envelope/keyring.ts';
import type { CoreDeps } from './ports.ts';

/** What names a segment's object and says what it holds (its count and sha256 once known). */
export type ObjectSegment = Pick<Segment, 'id' | 'context_id' | 'version' | 'first_item' | 'data_key_id'> &
  Partial<Pick<Segment, 'item_count' | 'sha256'>>;

/** A segment's object key in this deployment's layout, for its codec. */
export function objectKeyOf(
  settings: CoreDeps['settings'],
  seg: Pick<Segment, 'id' | 'context_id' | 'version'>,
): string {
  return segmentKey(settings.pathPrefix, seg.context_id, seg.version, seg.id, codecSuffix(settings.codec));
}

/** The storage columns of a segment kept inline (compaction, imports): its body, sealed when it has a data key. */
export async function inlineStorage(segmentId: string, body: Buffer, dataKey: DataKey | null) {
  return {
    state: 'inline' as const,
    data_key_id: dataKey?.id ?? null,
    body: dataKey ? await sealBuffer(sealKey(dataKey.key, segmentId, 'inline'), body) : body,
    object_key: null,
    etag: null,
    stored_bytes: null,
    content_encoding: 'identity',
    encryption: null,
  };
}

/**
 * Writes a segment's object (uploads, compaction, imports): `lines` (its items, then its trailer)
 * encoded as `encodeSegmentObject` says. Returns where the object went, for the segment's row.
 */
export async function putSegmentObject(
  deps: Pick<CoreDeps, 'blobs' | 'settings' | 'keyring'>,
  seg: ObjectSegment,
  lines: Readable,
  options: { plainLength?: number; contentType?: string } = {},
): Promise<ObjectPlacement> {
  const object = await encodeSegmentObject(deps, seg, lines, options);
  return placementOf(deps.settings, object.key, await deps.blobs.put(object.key, object.body, object.options));
}

/** A segment's object as it goes to the store: its key, its encoded body and what the put is told. */
interface EncodedObject {
  key: string;
  body: Readable;
  options: PutOptions;
}

/**
 * A segment's object made from `lines` (its items, then its trailer): compressed with the
 * configured codec, then sealed when the segment has a data key, with the metadata that describes
 * it (its count and sha256 only when known: an object written as the items arrive has them in its
 * trailer alone); `plainLength`, the bytes of `lines` when known, is sent as the length of an
 * uncompressed body.
 */
export async function encodeSegmentObject(
  deps: Pick<CoreDeps, 'settings' | 'keyring'>,
  seg: ObjectSegment,
  lines: Readable,
  options: { plainLength?: number; contentType?: string } = {},
): Promise<EncodedObject> {
  const { codec, codecLevel } = deps.settings;
  const encoded = codec === 'identity' ? lines : pipelineStream(lines, compressor(codec, codecLevel));
  const plainLength = codec === 'identity' ? options.plainLength : undefined;
  const sealing = await sealingOf(deps.keyring, seg);
  return {
    key: objectKeyOf(deps.settings, seg),
    body: sealing ? Readable.from(seal(await sealing.objectKey(seg.id), encoded)) : encoded,
    options: {
      contentLength: plainLength !== undefined && sealing ? sealedSize(plainLength) : plainLength,
      contentType: options.contentType ?? 'application/x-ndjson',
      metadata: { ...segmentMetadata(seg, codec), ...sealing?.metadata },
    },
  };
}

/** Where an object went, for its segment's row. */
export function placementOf(settings: CoreDeps['settings'], key: string, result: PutResult): ObjectPlacement {
  return {
    object_key: key,
    etag: result.etag,
    stored_bytes: result.size,
    content_encoding: settings.codec,
    encryption: result.encryption,
  };
}

/** What an object says about itself (S3 user metadata), so the references can be rebuilt from the bucket. */
function segmentMetadata(seg: ObjectSegment, codec: string): Record<string, string> {
  return {
    'context-id': seg.context_id,
    'segment-id': seg.id,
    version: String(seg.version),
    'first-item': String(seg.first_item),
    ...(seg.item_count !== undefined && { 'item-count': String(seg.item_count) }),
    ...(seg.sha256 !== undefined && { sha256: seg.sha256 }),
    'content-encoding': codec,
  };
}

/** `source` piped into `transform`, with errors of either ending the result (unlike `.pipe`). */
function pipelineStream(source: Readable, transform: Transform): Transform {
  return pipeline(source, transform, () => {});
}

/** The `encryption` metadata of a sealed object. */
export const SEALED_OBJECT = 'ctxvault-envelope-v1';

/** How a segment's object is sealed: with its data key, named (and wrapped) in the object's metadata. */
interface ObjectSealing {
  keyring: Keyring;
  objectKey(segmentId: string): Promise<Buffer>;
  metadata: Record<string, string>;
}

/**
 * The sealing of a segment's object, or null when it is stored in the clear (no data key). The
 * metadata names the data key and carries it wrapped, as it was wrapped when written, so that the
 * bucket (with the master key of that time) is enough to open the object.
 */
export async function sealingOf(
  keyring: Keyring | undefined,
  seg: Pick<Segment, 'id' | 'data_key_id'>,
): Promise<ObjectSealing | null> {
  const dataKeyId = seg.data_key_id;
  if (!dataKeyId) return null;
  if (!keyring) {
    throw new Error(
      `segment ${seg.id} is sealed with data key ${dataKeyId}, but no master key is configured (encryption.*)`,
    );
  }
  const wrapped = await keyring.wrappedKey(dataKeyId);
  return {
    keyring,
    objectKey: (segmentId) => keyring.sealKeyOf(dataKeyId, segmentId, 'object'),
    metadata: {
      encryption: SEALED_OBJECT,
      'frame-size': String(FRAME_SIZE),
      'data-key-id': dataKeyId,
      'master-key-id': wrapped.masterKeyId,
      'wrapped-key': wrapped.wrapped.toString('base64'),
    },
  };
}
