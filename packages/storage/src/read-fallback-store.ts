import type { Readable } from 'node:stream';
import type { BlobStore, ByteRange, ObjectInfo } from './blob-store.ts';
import { BlobStoreError } from './errors/blob-store-error.ts';

/** Failures that are the caller's, not the store's: the replica would answer them the same way. */
const CALLER_ERRORS = new Set(['invalid_key', 'invalid_range', 'aborted']);

export interface ReadFallbackOptions {
  /** Told each time a read was answered by the replica because the primary failed. */
  onFallback?: (operation: 'get' | 'head' | 'check', key: string, primaryError: unknown) => void;
}

/**
 * `primary`, whose reads go to `replica` when the primary fails (`storage.read_fallback: replica`):
 * unreachable, refusing, or missing the object (a lost bucket). A read fails only when both fail,
 * with the primary's error. Writes and removals go to the primary alone: the replica is written by
 * the replication jobs. A stream that breaks after it started is not resumed from the replica.
 * A proxy, so the primary's own extras (the S3 store's multipart housekeeping) keep working.
 */
export function readFallbackStore<S extends BlobStore>(
  primary: S,
  replica: BlobStore,
  { onFallback }: ReadFallbackOptions = {},
): S {
  async function fallBack<T>(
    operation: 'get' | 'head' | 'check',
    key: string,
    read: (store: BlobStore) => Promise<T>,
  ): Promise<T> {
    try {
      return await read(primary);
    } catch (err) {
      if (!(err instanceof BlobStoreError) || CALLER_ERRORS.has(err.code)) throw err;
      try {
        const answer = await read(replica);
        onFallback?.(operation, key, err);
        return answer;
      } catch {
        throw err;
      }
    }
  }
  const get = (key: string, range?: ByteRange): Promise<Readable> =>
    fallBack('get', key, (store) => store.get(key, range));
  const head = async (key: string): Promise<ObjectInfo | null> => {
    const found = await fallBack('head', key, (store) => store.head(key));
    if (found) return found;
    // absent from the primary: a lost bucket answers so too
    const copy = await replica.head(key).catch(() => null);
    if (copy) onFallback?.('head', key, null);
    return copy;
  };
  // ready while either store can answer reads
  const check = (): Promise<void> => fallBack('check', '', (store) => store.check());
  return new Proxy(primary, {
    get(target, property) {
      if (property === 'get') return get;
      if (property === 'head') return head;
      if (property === 'check') return check;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
