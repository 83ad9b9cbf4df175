import { type Processor, Worker } from 'bullmq';
import { bindBackend, type QueueConnectionOptions } from './connection.ts';
import type { QueueName } from './names.ts';

export interface ConsumerOptions {
  concurrency: number;
  /**
   * Seconds an idle worker waits before polling again. PGlite does not route LISTEN/NOTIFY, so the
   * embedded mode sets this low; elsewhere BullMQ's default applies.
   */
  drainDelay?: number;
  /**
   * ms a job's lock lasts without renewal; a worker that died loses its jobs to the stalled-job
   * check after about this long (checked as often), and another worker takes them.
   */
  lockDuration?: number;
}

/** A BullMQ worker on the configured backend; `close()` also closes the connection it made. */
export function createConsumer<Data, Result>(
  name: QueueName,
  processor: Processor<Data, Result>,
  connection: QueueConnectionOptions,
  options: ConsumerOptions,
): { worker: Worker<Data, Result>; close(): Promise<void> } {
  const binding = bindBackend(connection, 'worker');
  const worker = new Worker<Data, Result>(
    name,
    processor,
    {
      ...(binding.options as object),
      concurrency: options.concurrency,
      ...(options.drainDelay !== undefined && { drainDelay: options.drainDelay }),
      ...(options.lockDuration !== undefined && {
        lockDuration: options.lockDuration,
        stalledInterval: options.lockDuration,
      }),
    } as never,
    binding.factory as never,
  );
  let closing: Promise<void> | undefined;
  return {
    worker,
    close: () =>
      (closing ??= (async () => {
        try {
          await worker.close();
        } finally {
          await binding.close();
        }
      })()),
  };
}
