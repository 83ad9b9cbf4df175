/** Queue names (no ':' — BullMQ reserves it). */
export const UPLOAD_QUEUE = 'context-upload';
export const DELETE_QUEUE = 'context-delete';
export const LIFECYCLE_QUEUE = 'context-lifecycle';
/** copies of objects written to (or removed from) the primary blob store, made on the replica */
export const REPLICA_QUEUE = 'context-replica';
export const ALL_QUEUES = [UPLOAD_QUEUE, DELETE_QUEUE, LIFECYCLE_QUEUE, REPLICA_QUEUE] as const;
export type QueueName = (typeof ALL_QUEUES)[number];
