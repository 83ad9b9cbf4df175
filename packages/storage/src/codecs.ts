import { PassThrough, type Transform } from 'node:stream';
import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from 'node:zlib';

/** How a stored body is compressed. Recorded on the row and in the object's key and metadata. */
export const CODECS = ['identity', 'gzip', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

/** The key suffix of a codec (`<version>.json.<suffix>`), undefined for identity. */
export function codecSuffix(codec: Codec): string | undefined {
  return codec === 'gzip' ? 'gz' : codec === 'zstd' ? 'zst' : undefined;
}

/** A stream that compresses with `codec`; `level` is the codec's own scale (gzip 1-9, zstd 1-22). */
export function compressor(codec: Codec, level?: number): Transform {
  switch (codec) {
    case 'gzip':
      return createGzip(level === undefined ? {} : { level });
    case 'zstd':
      return createZstdCompress(level === undefined ? {} : { params: { [constants.ZSTD_c_compressionLevel]: level } });
    case 'identity':
      return new PassThrough();
  }
}

export function decompressor(codec: Codec): Transform {
  switch (codec) {
    case 'gzip':
      return createGunzip();
    case 'zstd':
      return createZstdDecompress();
    case 'identity':
      return new PassThrough();
  }
}

export function isCodec(value: string): value is Codec {
  return (CODECS as readonly string[]).includes(value);
}
