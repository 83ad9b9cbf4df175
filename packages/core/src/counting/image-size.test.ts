import { describe, expect, it } from 'vitest';
import { readBase64ImageSize, readImageSize } from './image-size.ts';
import { gif, jpegImage, png, webpExtended, webpLossless } from './test-images.ts';

describe('readImageSize', () => {
  it('reads width and height from PNG, JPEG, GIF and WebP headers', () => {
    expect(readImageSize(png(640, 480))).toEqual({ format: 'png', width: 640, height: 480 });
    expect(readImageSize(jpegImage(33, 17))).toEqual({ format: 'jpeg', width: 33, height: 17 });
    expect(readImageSize(gif(300, 200))).toEqual({ format: 'gif', width: 300, height: 200 });
    expect(readImageSize(webpExtended(4000, 3000))).toEqual({ format: 'webp', width: 4000, height: 3000 });
    expect(readImageSize(webpLossless(1000, 700))).toEqual({ format: 'webp', width: 1000, height: 700 });
  });

  it('finds a JPEG frame header behind a large EXIF segment, from base64, decoding only the head', () => {
    const image = jpegImage(20, 10, 60_000);
    expect(readBase64ImageSize(image.toString('base64'))).toEqual({ format: 'jpeg', width: 20, height: 10 });
  });

  it('answers null for what is not an image or is cut too short', () => {
    expect(readImageSize(Buffer.from('hello world, not an image at all'))).toBeNull();
    expect(readImageSize(png(10, 10).subarray(0, 12))).toBeNull();
    expect(readBase64ImageSize('')).toBeNull();
  });
});
