// Images for the end-to-end suites and the bench: real PNG headers (the size ctxvault reads).
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * A PNG of `width` × `height` whose one IDAT chunk is `bytes` of random data: a real header and
 * chunk structure (CRCs included), random pixels — the worst case for a tokenizer reading it as text.
 */
export function randomPng(width: number, height: number, bytes: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', randomBytes(bytes)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
