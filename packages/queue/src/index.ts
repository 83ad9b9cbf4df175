export { UPLOAD_QUEUE, DELETE_QUEUE, LIFECYCLE_QUEUE, ALL_QUEUES, type QueueName } from './names.ts';
export {
  uploadJobSchema,
  deleteJobSchema,
  uploadJobId,
  deleteJobId,
  type UploadJob,
  type DeleteJob,
  byteProgressSchema,
  type ByteProgress,
} from './payloads.ts';
export { POSTGRES_QUEUE_SCHEMA, type QueueConnectionOptions } from './connection.ts';
export { JobProducer, type JobDefaults } from './producer.ts';
export { createConsumer, type ConsumerOptions } from './consumer.ts';
export { jobViewSchema, type JobView } from './job-view.ts';
export { QueueAdmin, JOB_STATES, adminJobViewSchema, type JobState, type AdminJobView } from './queue-admin.ts';
export { JobStateError } from './job-state-error.ts';
export type { Job, Queue } from 'bullmq';
