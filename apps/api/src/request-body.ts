import { Readable, type Transform } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { Context } from 'hono';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@ctxvault/core';

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  zstd: createZstdDecompress,
};

/**
 * The request body as bytes, decoded from its `Content-Encoding` (gzip or zstd), refused with 413
 * once more than `maxBytes` have been decoded (so neither a large body nor a compression bomb is
 * ever held), and with 415 for an encoding we do not speak.
 */
export function requestBytes(c: Context, maxBytes: number, limitName: string): AsyncIterable<Buffer> {
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  const decoder = encoding === 'identity' || encoding === '' ? null : DECODERS[encoding];
  if (decoder === undefined) {
    throw new UnsupportedMediaTypeError(`Content-Encoding must be gzip, zstd or identity; got "${encoding}"`);
  }
  const raw = c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : Readable.from([]);
  const declared = Number(c.req.header('content-length'));
  if (!decoder && Number.isFinite(declared) && declared > maxBytes) {
    discardRest(raw);
    throw tooLarge(maxBytes, limitName);
  }
  const decoded = decoder ? raw.pipe(decoder()) : raw;
  raw.on('error', (err) => decoded.destroy(err));
  return limited(raw, decoded, maxBytes, limitName, encoding);
}

/** Past this, a refused body is not read to its end: the connection is closed instead. */
const DISCARD_LIMIT = 256 * 1024 * 1024;

/**
 * Reads and drops what is left of a body we answered early (a 400 or 413), so the client gets our
 * answer instead of a reset and the connection can be reused; a body past DISCARD_LIMIT is cut.
 */
function discardRest(raw: Readable): void {
  if (raw.readableEnded || raw.destroyed) return;
  let dropped = 0;
  raw.unpipe();
  raw.on('error', () => {});
  raw.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT) raw.destroy();
  });
  raw.resume();
}

async function* limited(raw: Readable, source: Readable, maxBytes: number, limitName: string, encoding: string): AsyncGenerator<Buffer> {
  let received = 0;
  try {
    for await (const chunk of source) {
      received += (chunk as Buffer).length;
      if (received > maxBytes) throw tooLarge(maxBytes, limitName);
      yield chunk as Buffer;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code.startsWith('ZSTD_')) {
      throw new ValidationError(`body is not valid ${encoding}: ${(err as Error).message}`, [{ path: '', message: `invalid ${encoding}` }]);
    }
    throw err;
  } finally {
    discardRest(raw);
    if (source !== raw) source.destroy();
  }
}

function tooLarge(maxBytes: number, limitName: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body is larger than the limit of ${maxBytes} bytes (${limitName})`, { limit_bytes: maxBytes });
}
