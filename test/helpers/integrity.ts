// What every fault test asserts at the end: each context the API accepted is stored and reads back
// identical, and after one lifecycle pass no object is orphaned (every object is a segment's) and no
// multipart upload is left.

import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { api, sha256, waitUntilSettled } from './contexts.ts';
import { queryRows } from './database.ts';
import type { Deployment } from './deployment.ts';
import { lifecyclePass } from './processes.ts';
import type { TestBucket } from './s3.ts';

/**
 * Graces of zero, so that one lifecycle pass collects every object, multipart upload and staged
 * body nothing refers to. Only for a pass that runs once every accepted context has settled: a
 * pass running beside uploads would take an object written a moment before its segment row.
 * The pending grace is long, so that the pass leaves the search indexing of the segments just
 * stored to the worker, which is still at it (and requeues nothing: everything has settled). With
 * the fault suites' grace of zero the pass indexed the oldest of them beside the worker, and when
 * its insert was the one to merge GIN's pending list (gin_pending_list_limit), it merged the
 * trigrams the worker kept adding too: minutes on a busy machine for worker-killed's 240 MiB of
 * items, past the test's limit.
 */
const COLLECT_AT_ONCE = {
  MCP_LIFECYCLE_OBJECT_GRACE: '0s',
  MCP_LIFECYCLE_MULTIPART_GRACE: '0s',
  MCP_LIFECYCLE_STAGING_GRACE: '0s',
  MCP_LIFECYCLE_PENDING_GRACE: '1h',
};

export interface Accepted {
  id: string;
  sha256: string;
}

export interface IntegrityReport {
  sent: number;
  accepted: number;
  stored: number;
  lost: number;
  orphans: number;
  incomplete_uploads: number;
}

export async function checkIntegrity(
  app: Deployment,
  databaseUrl: string,
  bucket: TestBucket,
  sent: number,
  accepted: Accepted[],
): Promise<IntegrityReport> {
  let stored = 0;
  for (const { id, sha256: expected } of accepted) {
    const last = (await waitUntilSettled(app.url, id, 180_000)).at(-1);
    const read = await api(app.url, `/api/v1/contexts/${id}`);
    if (last.status === 'stored' && read.status === 200 && sha256(JSON.stringify(read.json.content)) === expected)
      stored++;
  }
  await lifecyclePass(app.env, COLLECT_AT_ONCE);
  // every segment of a kept version is an object (or inline); nothing else may remain in the bucket
  const rows = await queryRows<{ object_key: string }>(
    databaseUrl,
    'select object_key from segments where object_key is not null',
  );
  const referenced = new Set(rows.map((r) => r.object_key));
  const orphans = (await bucket.keys()).filter((k) => !referenced.has(k)).length;
  const uploads = (await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }))).Uploads ?? [];
  const report = {
    sent,
    accepted: accepted.length,
    stored,
    lost: accepted.length - stored,
    orphans,
    incomplete_uploads: uploads.length,
  };
  console.info(`integrity: ${JSON.stringify(report)}`);
  return report;
}
