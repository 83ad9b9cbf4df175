import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { UnsealError } from '../errors/unseal-error.ts';

/**
 * The sealed layout (docs/storage-model.md, "Encryption at rest"): the plaintext cut in frames of
 * FRAME_SIZE bytes, each sealed on its own with AES-256-GCM (its ciphertext, then its 16-byte tag).
 * The last frame is always shorter than FRAME_SIZE (empty when the plaintext fills its frames), so a
 * stream cut at a frame boundary is told from a whole one. Frame i's nonce is i (96-bit big-endian)
 * and its additional data says whether it is the last, under a key derived from the context's data
 * key and the segment id: no nonce is ever stored, and plaintext byte p lives in frame
 * floor(p / FRAME_SIZE), so a byte range of the plaintext is one byte range of the sealed object.
 */
export const FRAME_SIZE = 64 * 1024;
const TAG_SIZE = 16;
const SEALED_FRAME = FRAME_SIZE + TAG_SIZE;
const NOT_LAST = Buffer.from([0]);
const LAST = Buffer.from([1]);

/** What a seal key is derived for: one body of a segment each, so no two bodies share a key. */
export type SealPurpose = 'object' | 'inline' | 'staged';

/** The AES-256 key of one body of one segment: HKDF-SHA256 of the data key, salted with the segment id. */
export function sealKey(dataKey: Buffer, segmentId: string, purpose: SealPurpose): Buffer {
  const salt = Buffer.from(segmentId.replaceAll('-', ''), 'hex');
  return Buffer.from(hkdfSync('sha256', dataKey, salt, `ctxvault-seal-v1/${purpose}`, 32));
}

/** The sealed size of `plainBytes` bytes. */
export function sealedSize(plainBytes: number): number {
  return plainBytes + TAG_SIZE * (Math.floor(plainBytes / FRAME_SIZE) + 1);
}

/** Where plaintext bytes [start, end] (inclusive) are in the sealed body, and how many plaintext bytes of its first frame come before `start`. */
export function sealedRange(
  start: number,
  end: number,
): { start: number; end: number; firstFrame: number; skip: number } {
  const firstFrame = Math.floor(start / FRAME_SIZE);
  const lastFrame = Math.floor(end / FRAME_SIZE);
  return {
    start: firstFrame * SEALED_FRAME,
    end: (lastFrame + 1) * SEALED_FRAME - 1,
    firstFrame,
    skip: start - firstFrame * FRAME_SIZE,
  };
}

function nonce(frame: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUIntBE(frame, 6, 6);
  return iv;
}

function sealFrame(key: Buffer, frame: number, plain: Buffer, last: boolean): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce(frame));
  cipher.setAAD(last ? LAST : NOT_LAST);
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function openFrame(key: Buffer, frame: number, sealed: Buffer, last: boolean): Buffer {
  if (sealed.length < TAG_SIZE) throw new UnsealError(`sealed frame ${frame} is cut off (${sealed.length} bytes)`);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(frame));
  decipher.setAAD(last ? LAST : NOT_LAST);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE)), decipher.final()]);
  } catch {
    throw new UnsealError(`sealed frame ${frame} does not open: tampered with, cut off, or the wrong data key`);
  }
}

/** Bytes taken from a stream of chunks in pieces of a given size, without copying more than once. */
class ChunkQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const used = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(used);
    }
    this.length -= n;
    return out;
  }
}

/** Seals a byte stream frame by frame. */
export async function* seal(key: Buffer, plain: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const queue = new ChunkQueue();
  let frame = 0;
  for await (const chunk of plain) {
    queue.push(chunk);
    while (queue.length >= FRAME_SIZE) yield sealFrame(key, frame++, queue.take(FRAME_SIZE), false);
  }
  yield sealFrame(key, frame, queue.take(queue.length), true);
}

export interface UnsealOptions {
  /** the index of the first frame in `sealed` (a ranged read starts mid-body); 0 by default */
  firstFrame?: number;
  /** the stream must run to the body's last frame (a whole read); false for a range that may stop before it */
  toEnd: boolean;
}

/** Opens a sealed byte stream frame by frame; throws UnsealError on any tampering, truncation or wrong key. */
export async function* unseal(
  key: Buffer,
  sealed: AsyncIterable<Buffer>,
  options: UnsealOptions,
): AsyncGenerator<Buffer> {
  const queue = new ChunkQueue();
  let frame = options.firstFrame ?? 0;
  for await (const chunk of sealed) {
    queue.push(chunk);
    // a whole frame is never the last one (the last is always shorter), so it opens at once
    while (queue.length > SEALED_FRAME) yield openFrame(key, frame++, queue.take(SEALED_FRAME), false);
  }
  if (queue.length === SEALED_FRAME) {
    yield openFrame(key, frame++, queue.take(SEALED_FRAME), false);
    if (options.toEnd) throw new UnsealError(`sealed body ends after frame ${frame - 1} without its last frame`);
    return;
  }
  if (queue.length > 0) {
    yield openFrame(key, frame, queue.take(queue.length), true);
    return;
  }
  if (options.toEnd) throw new UnsealError('sealed body is empty or ends without its last frame');
}

/** Seals a whole (small) body at once: inline bodies. */
export async function sealBuffer(key: Buffer, plain: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of seal(key, once(plain))) parts.push(part);
  return Buffer.concat(parts);
}

/** Opens a whole sealed body at once. */
export async function unsealBuffer(key: Buffer, sealed: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of unseal(key, once(sealed), { toEnd: true })) parts.push(part);
  return Buffer.concat(parts);
}

async function* once(buffer: Buffer): AsyncGenerator<Buffer> {
  yield buffer;
}
