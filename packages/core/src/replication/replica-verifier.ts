import type { BlobStore, ObjectInfo } from '@ctxvault/storage';
import { copyObject } from './copy-object.ts';
import type { ReplicaLog } from './ports.ts';

export interface VerifyOptions {
  primary: BlobStore;
  replica: BlobStore;
  log: Pick<ReplicaLog, 'find' | 'forget' | 'recordInStep'>;
  /** only keys under this prefix (storage.context_storage.s3_path_prefix + "/") */
  prefix: string;
  /** also make the stores agree, not only report where they differ */
  repair: boolean;
  /** called after each key with the keys done and the keys to do in all */
  onProgress?: (done: number, total: number) => void;
}

/** Keys by what `verify` found; `repaired` counts the keys `--repair` fixed, whatever their kind. */
export interface VerifyReport {
  checked: number;
  in_step: number;
  /** on the primary, not on the replica */
  missing: number;
  /** on both, with different sizes or checksums */
  differing: number;
  /** on the replica only, and live in the log: the primary lost them (repair copies them back) */
  lost_on_primary: number;
  /** on the replica only, and nothing live in the log: left over (repair removes them) */
  extra: number;
  repaired: number;
  /** up to 20 keys that differ, for the report */
  examples: { key: string; problem: 'missing' | 'differing' | 'lost_on_primary' | 'extra' }[];
}

/**
 * Compares every object of the two stores under `prefix` (by size, and by MD5 ETag where both stores
 * give one: multipart ETags depend on the part size) and, with `repair`, makes them agree: the
 * primary's objects are copied to the replica, objects the primary lost are copied back to it, and
 * leftovers on the replica are removed. Safe to run while the service runs, and twice.
 */
export async function verifyReplica(options: VerifyOptions): Promise<VerifyReport> {
  const { primary, replica, log, repair, onProgress } = options;
  const onPrimary = await listed(primary, options.prefix);
  const onReplica = await listed(replica, options.prefix);
  const keys = [...new Set([...onPrimary.keys(), ...onReplica.keys()])].sort();
  const report: VerifyReport = {
    checked: 0,
    in_step: 0,
    missing: 0,
    differing: 0,
    lost_on_primary: 0,
    extra: 0,
    repaired: 0,
    examples: [],
  };
  const found = (key: string, problem: VerifyReport['examples'][number]['problem']) => {
    report[problem] += 1;
    if (report.examples.length < 20) report.examples.push({ key, problem });
  };
  for (const key of keys) {
    const source = onPrimary.get(key);
    const copy = onReplica.get(key);
    if (source && copy && sameObject(source, copy)) {
      report.in_step += 1;
    } else if (source) {
      found(key, copy ? 'differing' : 'missing');
      if (repair) {
        await copyObject(primary, replica, await headOf(primary, source));
        await log.recordInStep(key, source.size);
        report.repaired += 1;
      }
    } else if (copy) {
      const entry = await log.find(key);
      if (entry && !entry.deleted) {
        found(key, 'lost_on_primary');
        if (repair) {
          await copyObject(replica, primary, await headOf(replica, copy));
          report.repaired += 1;
        }
      } else {
        found(key, 'extra');
        if (repair) {
          await replica.delete(key);
          if (entry) await log.forget(key, entry.generation);
          report.repaired += 1;
        }
      }
    }
    report.checked += 1;
    onProgress?.(report.checked, keys.length);
  }
  return report;
}

async function listed(store: BlobStore, prefix: string): Promise<Map<string, ObjectInfo>> {
  const objects = new Map<string, ObjectInfo>();
  for await (const info of store.list(prefix)) objects.set(info.key, info);
  return objects;
}

function sameObject(a: ObjectInfo, b: ObjectInfo): boolean {
  if (a.size !== b.size) return false;
  const comparable = a.etag && b.etag && !a.etag.includes('-') && !b.etag.includes('-');
  return !comparable || a.etag === b.etag;
}

/** Listings may leave metadata out; a copy carries it over. */
async function headOf(store: BlobStore, listing: ObjectInfo): Promise<ObjectInfo> {
  return (await store.head(listing.key)) ?? listing;
}
