export { type LogFields, logContext, withLogContext } from './log-context.ts';
export { meteredBlobStore } from './metered-blob-store.ts';
export { createMetrics, type MetricSources, type Metrics } from './metrics.ts';
