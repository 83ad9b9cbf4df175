import type { S3Client } from '@aws-sdk/client-s3';

/** One S3 call as the SDK finished it, retries included. Never holds credentials or headers. */
export interface S3Call {
  /** e.g. `PutObject`, `UploadPart`, `GetObject` */
  operation: string;
  bucket?: string;
  key?: string;
  /** body bytes sent (puts, parts) or announced by the answer (gets) */
  bytes?: number;
  ms: number;
  /** 1 unless the SDK retried */
  attempts: number;
  status?: number;
  /** S3's error code (`NoSuchBucket`, `AccessDenied`) or the network's (`ECONNREFUSED`); absent on success */
  error?: string;
}

export interface S3CallObserver {
  /** receives a debug line per call (pino's `debug` is a no-op above the debug level) */
  logger?: { debug(obj: object, msg?: string): void };
  /** sees every finished call, e.g. to count errors by code */
  onCall?: (call: S3Call) => void;
}

interface CallShape {
  input?: { Bucket?: string; Key?: string; ContentLength?: number; Body?: unknown };
  output?: { ContentLength?: number; $metadata?: { attempts?: number; httpStatusCode?: number } };
}

interface ErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { attempts?: number; httpStatusCode?: number };
}

/** Adds a middleware that reports each S3 call (operation, key, bytes, duration, attempts) once it ends. */
export function observeS3Calls(client: S3Client, { logger, onCall }: S3CallObserver): void {
  if (!logger && !onCall) return;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      const { input } = args as CallShape;
      const base = {
        operation: context.commandName?.replace(/Command$/, '') ?? 'unknown',
        bucket: input?.Bucket,
        key: input?.Key,
      };
      const report = (call: S3Call) => {
        logger?.debug({ s3: call }, `s3 ${call.operation}${call.error ? ` failed: ${call.error}` : ''}`);
        onCall?.(call);
      };
      try {
        const result = await next(args);
        const { output } = result as CallShape;
        report({
          ...base,
          bytes: bodyBytes(input) ?? output?.ContentLength,
          ms: elapsed(started),
          attempts: output?.$metadata?.attempts ?? 1,
          status: output?.$metadata?.httpStatusCode,
        });
        return result;
      } catch (err) {
        const shape = (err ?? {}) as ErrorShape;
        report({
          ...base,
          bytes: bodyBytes(input),
          ms: elapsed(started),
          attempts: shape.$metadata?.attempts ?? 1,
          status: shape.$metadata?.httpStatusCode,
          error: shape.Code ?? (shape.code && /^E[A-Z]+$/.test(shape.code) ? shape.code : shape.name) ?? 'Unknown',
        });
        throw err;
      }
    },
    { step: 'initialize', name: 'ctxvaultObserveS3Calls', override: true },
  );
}

function bodyBytes(input: CallShape['input']): number | undefined {
  if (input?.ContentLength !== undefined) return input.ContentLength;
  const body = input?.Body;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return undefined;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
