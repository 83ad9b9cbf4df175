import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Where the gauges read at scrape time come from; absent ones are not exported. */
export interface MetricSources {
  /** jobs per state, per queue (BullMQ's counts) */
  queueCounts?: () => Promise<Record<string, Record<string, number>>>;
  /** bytes of request bodies staged in Postgres, waiting for their upload */
  stagingBytes?: () => Promise<number>;
  /** the body cache's counts so far */
  cacheStats?: () => { memory_hits: number; shared_hits: number; misses: number };
  /** objects the replica still owes (a copy or a removal) and how long the oldest has waited */
  replicaLag?: () => Promise<{ pending_objects: number; lag_seconds: number }>;
  /** manifests of restore and fork versions not yet written to the bucket (the lifecycle pass writes them) */
  manifestsOwed?: () => Promise<number>;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Every series ctxvault exports, on a registry of its own per process (the API's at `/metrics`, a
 * worker's on `metrics.worker_port`). Names follow Prometheus conventions: seconds, bytes, `_total`.
 */
export function createMetrics(sources: MetricSources = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const metrics = {
    registry,
    httpDuration: new Histogram({
      name: 'ctxvault_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    jobsCompleted: new Counter({
      name: 'ctxvault_jobs_completed_total',
      help: 'Jobs this process finished successfully, by queue',
      labelNames: ['queue'] as const,
      registers,
    }),
    jobsFailed: new Counter({
      name: 'ctxvault_jobs_failed_total',
      help: 'Job attempts that failed in this process, by queue (each retry counts)',
      labelNames: ['queue'] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'ctxvault_job_duration_seconds',
      help: 'Time a job attempt took in this process, by queue and outcome',
      labelNames: ['queue', 'outcome'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    bytesUploaded: new Counter({
      name: 'ctxvault_blob_uploaded_bytes_total',
      help: 'Bytes written to the blob store, by store kind',
      labelNames: ['store'] as const,
      registers,
    }),
    bytesDownloaded: new Counter({
      name: 'ctxvault_blob_downloaded_bytes_total',
      help: 'Bytes read from the blob store, by store kind',
      labelNames: ['store'] as const,
      registers,
    }),
    s3Errors: new Counter({
      name: 'ctxvault_s3_errors_total',
      help: 'S3 calls that failed after the SDK retries, by operation and S3 (or network) error code',
      labelNames: ['operation', 'code'] as const,
      registers,
    }),
    replicaFallbackReads: new Counter({
      name: 'ctxvault_replica_fallback_reads_total',
      help: 'Reads answered by the replica because the primary blob store failed, by operation',
      labelNames: ['operation'] as const,
      registers,
    }),
  };

  const { queueCounts, stagingBytes, cacheStats, replicaLag, manifestsOwed } = sources;
  if (replicaLag) {
    // one query per scrape, shared by both gauges
    let reading: Promise<{ pending_objects: number; lag_seconds: number } | null> | undefined;
    const read = () => {
      reading ??= replicaLag()
        .catch(() => null)
        .finally(() => setImmediate(() => (reading = undefined)));
      return reading;
    };
    new Gauge({
      name: 'ctxvault_replica_lag_seconds',
      help: 'Seconds since the oldest change the replica has not yet copied (0: in step)',
      registers,
      async collect() {
        this.reset();
        const lag = await read();
        if (lag) this.set(lag.lag_seconds);
      },
    });
    new Gauge({
      name: 'ctxvault_replica_pending_objects',
      help: 'Objects whose copy to (or removal from) the replica is still owed',
      registers,
      async collect() {
        this.reset();
        const lag = await read();
        if (lag) this.set(lag.pending_objects);
      },
    });
  }
  if (cacheStats) {
    // the cache counts for itself (also for /api/v1/cache); these mirror its counts at scrape time
    new Counter({
      name: 'ctxvault_cache_hits_total',
      help: 'Reads answered from the body cache, by tier (memory: this process; shared: Redis)',
      labelNames: ['tier'] as const,
      registers,
      collect() {
        const stats = cacheStats();
        this.reset();
        this.inc({ tier: 'memory' }, stats.memory_hits);
        this.inc({ tier: 'shared' }, stats.shared_hits);
      },
    });
    new Counter({
      name: 'ctxvault_cache_misses_total',
      help: 'Reads the body cache could not answer',
      registers,
      collect() {
        this.reset();
        this.inc(cacheStats().misses);
      },
    });
  }
  if (queueCounts) {
    new Gauge({
      name: 'ctxvault_queue_jobs',
      help: 'Jobs in each queue by state (read from the queue backend at scrape time)',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        const counts = await queueCounts().catch(() => ({}) as Record<string, Record<string, number>>);
        for (const [queue, states] of Object.entries(counts)) {
          for (const [state, count] of Object.entries(states)) this.set({ queue, state }, count);
        }
      },
    });
  }
  if (manifestsOwed) {
    new Gauge({
      name: 'ctxvault_version_manifests_owed',
      help: 'Kept restore and fork versions whose manifest is not yet in the bucket (a rebuild would miss them)',
      registers,
      async collect() {
        this.reset();
        const owed = await manifestsOwed().catch(() => null);
        if (owed !== null) this.set(owed);
      },
    });
  }
  if (stagingBytes) {
    new Gauge({
      name: 'ctxvault_staging_bytes',
      help: 'Bytes of staged request bodies in Postgres waiting for upload (or kept for a retry)',
      registers,
      async collect() {
        this.reset();
        const bytes = await stagingBytes().catch(() => null);
        if (bytes !== null) this.set(bytes);
      },
    });
  }
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
