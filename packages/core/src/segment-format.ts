import { BytePieces } from './byte-pieces.ts';
import type { DocumentEnvelope } from './document.ts';
import { ROLES } from './schemas.ts';

/**
 * The bytes of a segment (docs/storage-model.md): its items, one a line, each line the item's JSON
 * text as the client sent it followed by `\n`. An object segment appends one more line, its
 * trailer: a JSON object naming the context, the version, the item range and the sha256 of the
 * items, so that the bucket alone can rebuild the references. The trailer comes last so that item
 * offsets are object offsets (a tail read is one ranged GET) and so that it can carry a sha256
 * computed while the items stream.
 */
export interface SegmentTrailer {
  ctxvault_segment: 1;
  context_id: string;
  segment_id: string;
  version: number;
  first_item: number;
  item_count: number;
  size_bytes: number;
  sha256: string;
  /**
   * What `ctxvault rebuild --from-bucket` needs beside the items (docs/disaster-recovery.md), from
   * here on. `write` / `compacted`: a segment's object; `restore` / `fork`: a version manifest, an
   * object with no items written for a version that wrote no segment; `deleted`: the mark of a purged
   * context whose segments a fork still shares (docs/storage-model.md, "Version manifests").
   */
  kind?: 'write' | 'compacted' | 'restore' | 'fork' | 'deleted';
  /** when the object was written: of two lists of the same version, the later one wins */
  written_at?: string;
  /** the context's fields as of `list.version` */
  context?: DocumentEnvelope;
  /** the version this object was written for and that version's segments, in order, at the time */
  list?: { version: number; segments: string[] };
  /** a compacted segment: the run of segments it replaces */
  merged?: string[];
  /** a version manifest: the context and version it restored or forked */
  source?: { context_id: string; version: number };
}

export function trailerLine(trailer: Omit<SegmentTrailer, 'ctxvault_segment'>): Buffer {
  return Buffer.from(`${JSON.stringify({ ctxvault_segment: 1, ...trailer })}\n`);
}

/** What a written segment's trailer says beside the segment: the version it was written for (see SegmentTrailer). */
export type WriteRecovery = Pick<SegmentTrailer, 'context' | 'list'>;

/** The trailer of the object of a segment a write made (the API's direct upload, the worker's upload of a staged body). */
export function writeTrailerLine(
  seg: {
    context_id: string;
    id: string;
    version: number;
    first_item: number;
    item_count: number;
    size_bytes: number;
    sha256: string;
  },
  recovery: WriteRecovery,
): Buffer {
  return trailerLine({
    context_id: seg.context_id,
    segment_id: seg.id,
    version: seg.version,
    first_item: seg.first_item,
    item_count: seg.item_count,
    size_bytes: seg.size_bytes,
    sha256: seg.sha256,
    kind: 'write',
    written_at: new Date().toISOString(),
    ...recovery,
  });
}

const NEWLINE = 0x0a;

/**
 * The stored line of an item's text. Inside JSON a line break can only be whitespace between
 * tokens (strings escape theirs), so a pretty-printed item of a JSON body keeps its meaning, and
 * every other byte, with its breaks turned into spaces; an NDJSON line has none and stays as sent.
 */
export function itemLine(text: string): Buffer {
  return Buffer.from(`${text.includes('\n') ? text.replaceAll('\n', ' ') : text}\n`);
}

/**
 * Item lines (as `itemLine` makes them) written one after the other into batches of bytes: a
 * segment's items go to staging and to the hash a batch at a time, not a line at a time (a line of
 * a few hundred bytes costs more in calls and allocations than in bytes). The first batch is small
 * (a small write holds no large buffer), the next ones double up to `maxBytes`.
 */
export class LineBatches {
  private batch: Buffer | null = null;
  private used = 0;
  private nextBytes: number;

  constructor(
    private readonly maxBytes = 256 * 1024,
    firstBytes = 16 * 1024,
  ) {
    this.nextBytes = Math.min(firstBytes, maxBytes);
  }

  /**
   * Adds the line of `text` and returns its length in bytes, with the batches completed before it
   * (a line longer than a batch is a batch of its own, after the one it interrupted).
   */
  add(text: string): { bytes: number; full: Buffer[] } {
    const line = text.includes('\n') ? text.replaceAll('\n', ' ') : text;
    const full: Buffer[] = [];
    let batch = this.batch ?? this.open();
    // at most 3 bytes a UTF-16 unit: the exact length is computed only when that bound does not fit
    if (line.length * 3 + 1 > batch.length - this.used) {
      const bytes = Buffer.byteLength(line) + 1;
      if (bytes > batch.length - this.used) {
        const taken = this.take();
        if (taken) full.push(taken);
        batch = this.open();
        if (bytes > batch.length) {
          full.push(Buffer.from(`${line}\n`));
          return { bytes, full };
        }
      }
    }
    const written = batch.write(line, this.used);
    batch[this.used + written] = NEWLINE;
    this.used += written + 1;
    return { bytes: written + 1, full };
  }

  /** The batch so far, or null when it is empty. */
  take(): Buffer | null {
    const batch = this.batch;
    if (!batch || this.used === 0) return null;
    this.batch = null;
    const out = batch.subarray(0, this.used);
    this.used = 0;
    return out;
  }

  private open(): Buffer {
    if (this.batch) return this.batch;
    this.batch = Buffer.allocUnsafe(this.nextBytes);
    this.nextBytes = Math.min(this.maxBytes, this.nextBytes * 2);
    return this.batch;
  }
}

/**
 * `itemLine(text)` as pieces of at most `chars` characters each (a surrogate pair is never cut),
 * so that a large item is never turned into bytes in one go.
 */
export function* itemLinePieces(text: string, chars: number): Generator<Buffer> {
  for (let from = 0; from < text.length; ) {
    let to = Math.min(text.length, from + chars);
    // a high surrogate stays with its low one
    if (to < text.length && (text.charCodeAt(to - 1) & 0xfc00) === 0xd800) to += to - 1 > from ? -1 : 1;
    const piece = text.slice(from, to);
    yield Buffer.from(piece.includes('\n') ? piece.replaceAll('\n', ' ') : piece);
    from = to;
  }
  yield Buffer.from('\n');
}

/** Role codes of the item index (one byte an item); anything else is 255. */
export function roleCode(role: string): number {
  const code = (ROLES as readonly string[]).indexOf(role);
  return code === -1 ? 255 : code;
}

/** Bytes per piece of a response document: one socket write each. */
const DOCUMENT_PIECE_BYTES = 256 * 1024;
const COMMA = 0x2c;

/**
 * A response document: the opening line (fields, then `"content":[\n`), then the item lines of
 * its segments joined with `,\n` and closed with `\n]}\n`, byte for byte otherwise; nothing is
 * parsed. The bytes come in pieces of `pieceBytes` (the last one shorter), each byte copied
 * once. Its first piece already holds the first content bytes, so a segment that cannot be opened
 * fails the answer before its status is sent (an error answer), not in the middle of a 200.
 * `expectedBytes` (`documentBytes`), when known, sizes the first piece.
 */
export async function* documentBody(
  opening: string,
  lines: AsyncIterable<Buffer>,
  { pieceBytes = DOCUMENT_PIECE_BYTES, expectedBytes }: { pieceBytes?: number; expectedBytes?: number } = {},
): AsyncGenerator<Buffer> {
  const out = new BytePieces(pieceBytes, expectedBytes);
  out.write(Buffer.from(opening));
  // a line's `\n` is held until it is known whether another item follows (`,\n`) or none (`\n]}`)
  let pendingNewline = false;
  const releaseNewline = () => {
    if (!pendingNewline) return;
    out.byte(COMMA);
    out.byte(NEWLINE);
    pendingNewline = false;
  };
  for await (const chunk of lines) {
    let from = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
      releaseNewline();
      out.write(chunk, from, at);
      pendingNewline = true;
      from = at + 1;
    }
    if (from < chunk.length) {
      releaseNewline();
      out.write(chunk, from);
    }
    yield* out.takeFull();
  }
  out.write(Buffer.from(pendingNewline ? '\n]}\n' : ']}\n'));
  yield* out.takeFull();
  yield out.takeRest();
}

/** At most the bytes of the document `documentBody` makes of `opening` and these segments' lines. */
export function documentBytes(opening: string, segs: readonly { size_bytes: number; item_count: number }[]): number {
  let bytes = Buffer.byteLength(opening) + ']}\n'.length;
  // each line's `\n` becomes `,\n` (one byte more), the last one `\n]}\n`
  for (const seg of segs) bytes += seg.size_bytes + seg.item_count;
  return bytes;
}

/** The item lines of a byte stream, without their `\n`. */
export async function* splitLines(bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let partial: Buffer[] = [];
  for await (const chunk of bytes) {
    let from = 0;
    let at = chunk.indexOf(NEWLINE);
    while (at !== -1) {
      partial.push(chunk.subarray(from, at));
      yield partial.length === 1 ? partial[0]! : Buffer.concat(partial);
      partial = [];
      from = at + 1;
      at = chunk.indexOf(NEWLINE, from);
    }
    if (from < chunk.length) partial.push(chunk.subarray(from));
  }
  if (partial.length) yield Buffer.concat(partial);
}

/** The first `limit` bytes of a stream, after skipping `skip` bytes. */
export async function* byteWindow(bytes: AsyncIterable<Buffer>, skip: number, limit: number): AsyncGenerator<Buffer> {
  let position = 0;
  const end = skip + limit;
  for await (const chunk of bytes) {
    const start = position;
    position += chunk.length;
    if (position <= skip) continue;
    if (start >= end) return;
    yield chunk.subarray(Math.max(0, skip - start), Math.min(chunk.length, end - start));
    if (position >= end) return;
  }
}

/**
 * The item lines of a segment in the whole-document layout of before segments: the envelope line
 * is skipped, each item line loses its trailing comma, and the closing `]}` must be there.
 */
export async function* documentItemLines(bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let first = true;
  let closed = false;
  for await (const line of splitLines(bytes)) {
    if (first) {
      first = false;
      continue;
    }
    if (line.toString() === ']}') {
      closed = true;
      continue;
    }
    if (closed) continue;
    const end = line[line.length - 1] === 0x2c ? line.length - 1 : line.length;
    yield Buffer.concat([line.subarray(0, end), Buffer.from('\n')]);
  }
  if (!closed) throw new TruncatedSegmentError('stored document ends before its closing line');
}

/** A segment's bytes ended before its recorded size, or did not match it. */
export class TruncatedSegmentError extends Error {}
