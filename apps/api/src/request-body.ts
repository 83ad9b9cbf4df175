import { PassThrough, Readable, type Transform } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { PayloadTooLargeError, RequestTimeoutError, UnsupportedMediaTypeError, ValidationError } from '@ctxvault/core';
import type { Context } from 'hono';
import type { ApiEnv } from './env.ts';
import type { BodyMeter } from './in-flight-bytes.ts';

// looked up by own key only: a header like `__proto__` must find nothing (415), not Object.prototype (500)
const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  zstd: createZstdDecompress,
};

/** Below this many decoded bytes the decompression ratio is not checked: tiny bodies compress very well. */
const RATIO_FLOOR_BYTES = 1024 * 1024;

/** TextDecoder's `fatal` refusal of bytes that are not UTF-8, known by Node's error code. */
export function isInvalidUtf8(err: unknown): boolean {
  return err instanceof TypeError && (err as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA';
}

/**
 * The request body as bytes, decoded from its `Content-Encoding` (gzip or zstd), refused with 413
 * once more than `maxBytes` have been decoded or once it decodes to more than
 * limits.max_decompression_ratio times what arrived (so neither a large body nor a compression bomb
 * is ever held), with 415 for an encoding we do not speak, with 429 when its tenant has more than
 * quotas.max_staged_bytes in flight, and with 408 when the whole body has not arrived by the
 * request's body deadline (`limits.body_timeout` after it began).
 */
export function requestBytes(c: Context<ApiEnv>, maxBytes: number, limitName: string): AsyncIterable<Buffer> {
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  const decoder =
    encoding === 'identity' || encoding === ''
      ? null
      : Object.hasOwn(DECODERS, encoding)
        ? DECODERS[encoding]
        : undefined;
  if (decoder === undefined) {
    throw new UnsupportedMediaTypeError(`Content-Encoding must be gzip, zstd or identity; got "${encoding}"`);
  }
  const raw = bodyStream(c);
  const declared = Number(c.req.header('content-length'));
  if (!decoder && Number.isFinite(declared) && declared > maxBytes) {
    discardRest(raw, c.req.raw);
    throw tooLarge(maxBytes, limitName);
  }
  // what is iterated is always a stage of its own after `raw`, so a timeout can end it without
  // destroying the request (whose socket must still carry the 408)
  const decoded = raw.pipe(decoder ? decoder() : new PassThrough());
  raw.on('error', (err) => decoded.destroy(err));
  const deadline = c.get('bodyDeadline') ?? Number.POSITIVE_INFINITY;
  const { bodyLimits } = c.var;
  const ratio = decoder ? (bodyLimits?.maxDecompressionRatio ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
  const meter = bodyLimits?.inFlight.open(c.var.tenantId) ?? null;
  return limited(c.req.raw, raw, decoded, { maxBytes, limitName, encoding, deadline, ratio, meter });
}

/**
 * The body as a Node stream: under @hono/node-server the request's IncomingMessage itself, unread
 * so far (no web Request and ReadableStream made around it only to be turned back into a Node
 * stream: that costs more than the small body of a turn), else the Request's body (`app.request()`).
 */
function bodyStream(c: Context<ApiEnv>): Readable {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Readable && !incoming.readableDidRead && !c.req.raw.bodyUsed) return incoming;
  return c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : Readable.from([]);
}

/**
 * Requests whose body we stopped reading before its end, with the promise of the rest being read
 * and dropped: an early answer (400, 413) waits for it, so the client, still sending, gets the
 * answer rather than a reset, and the connection stays usable.
 */
const unreadBodies = new WeakMap<Request, Promise<boolean>>();

/** How long an early answer waits for the rest of the body, and how much of it is read. */
const DISCARD_MS = 10_000;
const DISCARD_LIMIT = 256 * 1024 * 1024;

/** Waits (within limits) until the unread rest of the request's body has been dropped. */
export async function settleUnreadBody(request: Request): Promise<void> {
  const pending = unreadBodies.get(request);
  if (!pending) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DISCARD_MS)));
  try {
    await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function discardRest(raw: Readable, request: Request): void {
  if (raw.readableEnded || raw.destroyed || unreadBodies.has(request)) return;
  unreadBodies.set(
    request,
    new Promise<boolean>((resolve) => {
      let dropped = 0;
      raw.unpipe();
      raw.on('data', (chunk: Buffer) => {
        dropped += chunk.length;
        if (dropped > DISCARD_LIMIT) {
          raw.destroy();
          resolve(false);
        }
      });
      raw.on('end', () => resolve(true));
      raw.on('error', () => resolve(false));
      raw.on('close', () => resolve(raw.readableEnded));
      raw.resume();
    }),
  );
}

interface BodyLimits {
  maxBytes: number;
  limitName: string;
  encoding: string;
  /** epoch ms by which the body must have arrived */
  deadline: number;
  /** decoded bytes allowed per byte that arrived */
  ratio: number;
  /** the tenant's bytes in flight; null when not counted */
  meter: BodyMeter | null;
}

async function* limited(
  request: Request,
  raw: Readable,
  source: Transform,
  limits: BodyLimits,
): AsyncGenerator<Buffer> {
  let received = 0;
  let arrived = 0;
  const countArrived = (chunk: Buffer) => {
    arrived += chunk.length;
  };
  if (Number.isFinite(limits.ratio)) raw.on('data', countArrived);
  let ended = false;
  let timedOut = false;
  const timer = Number.isFinite(limits.deadline)
    ? setTimeout(
        () => {
          timedOut = true;
          raw.unpipe(source);
          source.destroy(timeoutError(received));
        },
        Math.max(0, limits.deadline - Date.now()),
      )
    : undefined;
  try {
    // not destroyed when the loop ends early: the rest of the body is drained, not cut off
    for await (const chunk of source.iterator({ destroyOnReturn: false })) {
      received += (chunk as Buffer).length;
      if (received > limits.maxBytes) throw tooLarge(limits.maxBytes, limits.limitName);
      if (received > RATIO_FLOOR_BYTES && received > limits.ratio * arrived) throw bomb(limits.ratio);
      limits.meter?.add((chunk as Buffer).length);
      yield chunk as Buffer;
    }
    ended = true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code.startsWith('ZSTD_')) {
      throw new ValidationError(`body is not valid ${limits.encoding}: ${(err as Error).message}`, [
        { path: '', message: `invalid ${limits.encoding}` },
      ]);
    }
    throw err;
  } finally {
    clearTimeout(timer);
    limits.meter?.release();
    raw.off('data', countArrived);
    // a client too slow to finish in time is not waited for: what it still sends is dropped
    // while the 408 goes out, and the connection closes after it
    if (timedOut) raw.resume();
    else if (!ended) discardRest(raw, request);
    source.destroy();
  }
}

function timeoutError(received: number): RequestTimeoutError {
  return new RequestTimeoutError(
    `the request body did not arrive within limits.body_timeout (MCP_LIMITS_BODY_TIMEOUT); ${received} bytes had arrived`,
    { received_bytes: received },
  );
}

function bomb(ratio: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `the body decodes to more than ${ratio} times its compressed size (limits.max_decompression_ratio / MCP_LIMITS_MAX_DECOMPRESSION_RATIO)`,
    { max_ratio: ratio },
  );
}

function tooLarge(maxBytes: number, limitName: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body is larger than the limit of ${maxBytes} bytes (${limitName})`, {
    limit_bytes: maxBytes,
  });
}
