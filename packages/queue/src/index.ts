export { UPLOAD_QUEUE, DELETE_QUEUE, LIFECYCLE_QUEUE, ALL_QUEUES, type QueueName } from './names.ts';
export {
  uploadJobSchema,
  deleteJobSchema,
  uploadJobId,
  deleteJobId,
  type UploadJob,
  type DeleteJob,
  type ByteProgress,
} from './payloads.ts';
export { POSTGRES_QUEUE_SCHEMA, type QueueConnectionOptions } from './connection.ts';
export { JobProducer, type JobDefaults } from './producer.ts';
export { createConsumer, type ConsumerOptions } from './consumer.ts';
export type { JobView } from './job-view.ts';
export type { Job } from 'bullmq';
