import type { Readable } from 'node:stream';
import { type BlobStore, type PartUploads, type PutOptions, uploadsInParts } from '@ctxvault/storage';
import type { Logger } from '../ports.ts';
import type { ReplicaJobs, ReplicaLog } from './ports.ts';

export interface ReplicatingStoreDeps {
  log: Pick<ReplicaLog, 'recordWrite' | 'recordDeletes'>;
  jobs: ReplicaJobs;
  logger: Logger;
}

/**
 * The workers' (and the API's) `primary`: every object written to or removed from it (put, or
 * completed part by part) is recorded in the replica log
 * and gets a replication job, whatever the object is (a version body, a segment, a compacted one).
 * The record follows the primary's success, so a failure in between fails the caller's job, whose
 * retry writes (and records) again. A failed enqueue is only logged: the reconciler finds the owed
 * key in the log. A proxy, so the primary's own extras (multipart housekeeping) keep working.
 */
export function replicatingStore<S extends BlobStore>(primary: S, { log, jobs, logger }: ReplicatingStoreDeps): S {
  const enqueue = async (keys: readonly string[]) => {
    for (const key of keys) {
      await jobs.enqueueReplication({ key }).catch((err: unknown) => {
        logger.warn({ err, key }, 'replication job not enqueued; the reconciler will');
      });
    }
  };
  const put = async (key: string, body: Readable | Buffer, options?: PutOptions) => {
    const result = await primary.put(key, body, options);
    await log.recordWrite(key, result.size);
    await enqueue([key]);
    return result;
  };
  const remove = async (key: string) => {
    await primary.delete(key);
    await enqueue(await log.recordDeletes([key]));
  };
  const deletePrefix = async (prefix: string) => {
    // objects written before the replica was configured are in no log: the listing names them
    const keys: string[] = [];
    for await (const info of primary.list(prefix)) keys.push(info.key);
    const removed = await primary.deletePrefix(prefix);
    await enqueue(await log.recordDeletes(keys, prefix));
    return removed;
  };
  // an object the API writes part by part is replicated once complete, as a put
  const startUpload = async (key: string, options: Pick<PutOptions, 'contentType' | 'metadata'>) => {
    const upload = await (primary as S & PartUploads).startUpload(key, options);
    const complete = async () => {
      const result = await upload.complete();
      await log.recordWrite(key, result.size);
      await enqueue([key]);
      return result;
    };
    return { key, sendPart: upload.sendPart, abort: upload.abort, complete };
  };
  return new Proxy(primary, {
    get(target, property) {
      if (property === 'put') return put;
      if (property === 'startUpload' && uploadsInParts(target)) return startUpload;
      if (property === 'delete') return remove;
      if (property === 'deletePrefix') return deletePrefix;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
