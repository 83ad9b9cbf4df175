export type { Job, Queue } from 'bullmq';
export { POSTGRES_QUEUE_SCHEMA, type QueueConnectionOptions } from './connection.ts';
export { type ConsumerOptions, createConsumer } from './consumer.ts';
export { JobStateError } from './job-state-error.ts';
export { type JobView, jobViewSchema } from './job-view.ts';
export { ALL_QUEUES, DELETE_QUEUE, LIFECYCLE_QUEUE, type QueueName, REPLICA_QUEUE, UPLOAD_QUEUE } from './names.ts';
export {
  type ByteProgress,
  byteProgressSchema,
  type CompactJob,
  compactJobSchema,
  type DeleteJob,
  deleteJobId,
  deleteJobSchema,
  type ReplicaJob,
  replicaJobSchema,
  type UploadJob,
  uploadJobId,
  uploadJobSchema,
} from './payloads.ts';
export { type JobDefaults, JobProducer } from './producer.ts';
export { type AdminJobView, adminJobViewSchema, JOB_STATES, type JobState, QueueAdmin } from './queue-admin.ts';
export { type QueueUnavailableCause, QueueUnavailableError } from './queue-unavailable-error.ts';
export { openRedis, type RedisPatience, type RedisTarget } from './redis-client.ts';
