export { createMetrics, type Metrics, type MetricSources } from './metrics.ts';
export { meteredBlobStore } from './metered-blob-store.ts';
export { logContext, withLogContext, type LogFields } from './log-context.ts';
