/** Queue names (no ':' — BullMQ reserves it). */
export const UPLOAD_QUEUE = 'context-upload';
export const DELETE_QUEUE = 'context-delete';
export const LIFECYCLE_QUEUE = 'context-lifecycle';
export const ALL_QUEUES = [UPLOAD_QUEUE, DELETE_QUEUE, LIFECYCLE_QUEUE] as const;
export type QueueName = (typeof ALL_QUEUES)[number];
