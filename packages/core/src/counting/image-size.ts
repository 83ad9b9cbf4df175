// Width and height from the first bytes of an image: enough to count it by a provider's formula
// without decoding it. Only the formats LLM providers accept: PNG, JPEG, GIF, WebP.

export interface ImageSize {
  format: 'png' | 'jpeg' | 'gif' | 'webp';
  width: number;
  height: number;
}

/** How much of a base64 image is decoded to find its size: JPEG puts EXIF (up to 64 KiB) before it. */
const IMAGE_HEADER_BYTES = 96 * 1024;

/** The size of the image whose bytes start with `head`, or null when it is none of the known formats (or cut too short). */
export function readImageSize(head: Uint8Array): ImageSize | null {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (isPng(bytes)) return sized('png', bytes.readUInt32BE(16), bytes.readUInt32BE(20));
  if (isGif(bytes)) return sized('gif', bytes.readUInt16LE(6), bytes.readUInt16LE(8));
  if (isWebp(bytes)) return webpSize(bytes);
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes);
  return null;
}

/** The size of a base64-encoded image, decoding only its first bytes. */
export function readBase64ImageSize(base64: string): ImageSize | null {
  const chars = Math.ceil(IMAGE_HEADER_BYTES / 3) * 4;
  return readImageSize(Buffer.from(base64.slice(0, chars), 'base64'));
}

function sized(format: ImageSize['format'], width: number, height: number): ImageSize | null {
  return width > 0 && height > 0 ? { format, width, height } : null;
}

function isPng(b: Buffer): boolean {
  // signature, then the IHDR chunk (length 13) whose first fields are width and height
  return b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR';
}

function isGif(b: Buffer): boolean {
  return b.length >= 10 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a');
}

function isWebp(b: Buffer): boolean {
  return b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP';
}

function webpSize(b: Buffer): ImageSize | null {
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8X') return sized('webp', b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1);
  if (chunk === 'VP8L') {
    // 1 signature byte (0x2f), then 14 bits width - 1 and 14 bits height - 1, little-endian
    const bits = b.readUInt32LE(21);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8 ') {
    // after the frame tag (3 bytes) and the start code (9d 01 2a): 14-bit width and height
    return sized('webp', b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff);
  }
  return null;
}

/** Walks the JPEG's segments to its frame header (SOF0–SOF15 but DHT, JPG and DAC), which holds the size. */
function jpegSize(b: Buffer): ImageSize | null {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2; // markers without a length
      continue;
    }
    const length = b.readUInt16BE(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return sized('jpeg', b.readUInt16BE(at + 7), b.readUInt16BE(at + 5));
    if (marker === 0xda || marker === 0xd9) return null; // image data began without a frame header
    at += 2 + length;
  }
  return null;
}
