import { pipeline, Readable } from 'node:stream';
import { type Codec, compressor, decompressor } from '@ctxvault/storage';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** An archive's bytes, compressed as a whole with `codec` (or not, for identity). */
export function encodedArchive(records: AsyncIterable<Buffer>, codec: Codec): Readable {
  const source = Readable.from(records, { objectMode: false });
  return codec === 'identity' ? source : pipeline(source, compressor(codec), () => {});
}

/** An archive's plain NDJSON bytes, whether it was written zstd-, gzip-compressed or not at all (told by its first bytes). */
export async function* decodedArchive(bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const input = bytes[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < ZSTD_MAGIC.length && !ended) {
    const next = await input.next();
    if (next.done) ended = true;
    else head = Buffer.concat([head, next.value]);
  }
  const rest = (async function* () {
    if (head.length) yield head;
    if (ended) return;
    for (let next = await input.next(); !next.done; next = await input.next()) yield next.value;
  })();
  const codec: Codec = startsWith(head, ZSTD_MAGIC) ? 'zstd' : startsWith(head, GZIP_MAGIC) ? 'gzip' : 'identity';
  if (codec === 'identity') {
    yield* rest;
    return;
  }
  yield* pipeline(Readable.from(rest), decompressor(codec), () => {}) as AsyncIterable<Buffer>;
}

function startsWith(buf: Buffer, magic: Buffer): boolean {
  return buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);
}
