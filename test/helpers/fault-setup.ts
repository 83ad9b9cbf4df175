// Shared pieces of the fault suites: a deployment whose dependencies the test can break, and
// the contexts it sends.
import { expect } from 'vitest';
import { api, type Item, itemsOfSize, sha256 } from './contexts.ts';
import { type Accepted, checkIntegrity, type IntegrityReport } from './integrity.ts';
import { spawnCtxvault } from './processes.ts';
import type { Suite } from './suite.ts';

/**
 * Settings that make recovery quick enough to test. The lifecycle pass that `checkIntegrity` runs at
 * the end collects everything (COLLECT_AT_ONCE); a deployment that runs passes of its own while it
 * uploads keeps the usual graces, or a pass would take objects and staged bodies still being written.
 */
export const FAULT_SETTINGS = {
  MCP_QUEUE_LOCK_DURATION: '5s',
  MCP_QUEUE_ATTEMPTS: '12',
  MCP_QUEUE_BACKOFF: '500ms',
  MCP_STORAGE_S3_MAX_ATTEMPTS: '2',
  MCP_STORAGE_S3_REQUEST_TIMEOUT: '5s',
  MCP_LIFECYCLE_PENDING_GRACE: '0s',
};

/**
 * Posts `count` contexts of about `bytes` each, `parallel` at a time; returns those accepted, and
 * the status and error code of the others (status 0: no answer).
 */
export async function sendContexts(
  url: string,
  count: number,
  bytes: number,
  parallel = 2,
): Promise<{ sent: number; accepted: Accepted[]; refused: { status: number; code?: string }[] }> {
  const accepted: Accepted[] = [];
  const refused: { status: number; code?: string }[] = [];
  let next = 0;
  const sendOne = async () => {
    while (next < count) {
      const n = next++;
      const content: Item[] = itemsOfSize(bytes);
      const res = await api(url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: `fault-${n}`, content },
      }).catch(() => null);
      if (res && (res.status === 201 || res.status === 202))
        accepted.push({ id: res.json.id, sha256: sha256(JSON.stringify(content)) });
      else refused.push({ status: res?.status ?? 0, code: res?.json?.error?.code });
    }
  };
  await Promise.all(Array.from({ length: parallel }, sendOne));
  return { sent: count, accepted, refused };
}

/**
 * Redis forgets every job (`flushAll`) while `count` uploads wait with the worker stopped; then a
 * worker starts again. Returns the integrity report once every accepted context has settled.
 */
export async function flushWithJobsWaiting(
  suite: Suite,
  flushAll: () => Promise<void>,
  count: number,
  bytes: number,
): Promise<IntegrityReport> {
  await suite.app.worker.stop();
  const { sent, accepted } = await sendContexts(suite.app.url, count, bytes);
  expect(accepted).toHaveLength(count);
  await flushAll();
  const lost = await api(suite.app.url, `/api/v1/contexts/${accepted[0]!.id}/status`);
  expect(lost.json).toMatchObject({ status: 'pending', job: null });

  suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
  return checkIntegrity(suite.app, suite.db.url, suite.bucket, sent, accepted);
}
