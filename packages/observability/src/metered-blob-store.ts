import { pipeline, type Readable, Transform } from 'node:stream';
import type { BlobStore, ByteRange, PutOptions } from '@ctxvault/storage';
import type { Metrics } from './metrics.ts';

/**
 * `store`, counting the bytes written to and read from it. A proxy, so the store's own extras
 * (the S3 store's multipart housekeeping) and `instanceof` keep working.
 */
export function meteredBlobStore<S extends BlobStore>(
  store: S,
  metrics: Pick<Metrics, 'bytesUploaded' | 'bytesDownloaded'>,
): S {
  const labels = { store: store.kind };
  const put = async (key: string, body: Readable | Buffer, options?: PutOptions) => {
    const result = await store.put(key, body, options);
    metrics.bytesUploaded.inc(labels, result.size);
    return result;
  };
  const get = async (key: string, range?: ByteRange) => {
    const source = await store.get(key, range);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        metrics.bytesDownloaded.inc(labels, chunk.length);
        done(null, chunk);
      },
    });
    // an error of the source destroys the counter with it, so the reader sees it
    return pipeline(source, counter, () => {});
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'put') return put;
      if (property === 'get') return get;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
