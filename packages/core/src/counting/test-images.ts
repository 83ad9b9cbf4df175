// Real small images for the counting tests, written byte by byte (PNG, GIF, WebP) or by an encoder (JPEG).
import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';

/** A valid RGB PNG of the given size (every pixel grey). */
export function png(width: number, height: number): Buffer {
  const row = Buffer.alloc(1 + width * 3, 0x80);
  row[0] = 0; // filter: none
  return pngOf(width, height, deflateSync(Buffer.concat(Array.from({ length: height }, () => row))));
}

/** An RGB PNG of the given size around `pixels`, its one IDAT chunk: a real header and chunk structure, CRCs included. */
export function pngOf(width: number, height: number, pixels: Buffer): Buffer {
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
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A baseline JPEG of the given size from jpeg-js, with `exifBytes` of APP1 data before the frame header. */
export function jpegImage(width: number, height: number, exifBytes = 0): Buffer {
  const data = Buffer.alloc(width * height * 4, 0x60);
  const encoded = jpeg.encode({ data, width, height }, 80).data;
  if (exifBytes === 0) return encoded;
  const app1 = Buffer.alloc(4 + exifBytes);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(2 + exifBytes, 2);
  app1.write('Exif\0\0', 4, 'latin1');
  return Buffer.concat([encoded.subarray(0, 2), app1, encoded.subarray(2)]);
}

/** A one-colour GIF89a of the given size. */
export function gif(width: number, height: number): Buffer {
  const screen = Buffer.alloc(7);
  screen.writeUInt16LE(width, 0);
  screen.writeUInt16LE(height, 2);
  screen.set([0x80, 0, 0], 4); // a global colour table of 2 entries
  const descriptor = Buffer.alloc(10);
  descriptor[0] = 0x2c;
  descriptor.writeUInt16LE(width, 5);
  descriptor.writeUInt16LE(height, 7);
  return Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    screen,
    Buffer.from([0, 0, 0, 0xff, 0xff, 0xff]),
    descriptor,
    Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00, 0x3b]),
  ]);
}

/** The header of an extended (VP8X) WebP of the given canvas size. */
export function webpExtended(width: number, height: number): Buffer {
  const out = Buffer.alloc(30 + 8);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(out.length - 8, 4);
  out.write('WEBPVP8X', 8, 'latin1');
  out.writeUInt32LE(10, 16);
  out.writeUIntLE(width - 1, 24, 3);
  out.writeUIntLE(height - 1, 27, 3);
  return out;
}

/** The header of a lossless (VP8L) WebP of the given size. */
export function webpLossless(width: number, height: number): Buffer {
  const out = Buffer.alloc(30);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(out.length - 8, 4);
  out.write('WEBPVP8L', 8, 'latin1');
  out.writeUInt32LE(10, 16);
  out[20] = 0x2f;
  out.writeUInt32LE(((height - 1) << 14) | (width - 1), 21);
  return out;
}
