export { startWorkers, type WorkerOptions } from './start-workers.ts';
