import type { BlobStore, ObjectInfo } from '@ctxvault/storage';

/** Streams `info.key` from one store into the other, byte for byte, with its metadata. */
export async function copyObject(from: BlobStore, to: BlobStore, info: ObjectInfo): Promise<void> {
  const body = await from.get(info.key);
  await to.put(info.key, body, { contentLength: info.size, metadata: info.metadata });
}
