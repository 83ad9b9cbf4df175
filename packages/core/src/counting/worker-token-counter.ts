import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import type { HeapInfo } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Format } from '@ctxvault/formats';
import type { ItemCount, TokenCounter } from '../token-counter.ts';
import { Tokenizer, type TokenSettings } from '../tokens.ts';
import type { CountReply, CountTask } from './count-worker.ts';
import { mediaPricingFor } from './media-tokens.ts';

export interface WorkerTokenCounterOptions {
  /** counting threads; default: one per core (`os.availableParallelism()`) */
  threads?: number;
  /** items are sent to the threads in batches of about this many characters (default 1 MiB) */
  batchChars?: number;
}

// the thread's module beside this one: count-worker.ts from the sources, count-worker.js from the build
const COUNT_WORKER = new URL(`./count-worker${extname(import.meta.url)}`, import.meta.url);

/**
 * A counting thread's young generation: counting allocates only short-lived strings, and V8's
 * default (semi-spaces growing to 16–64 MB on a large machine) made each thread's RSS tens of MB larger.
 */
const THREAD_YOUNG_GENERATION_MB = 4;

interface Pending {
  task: CountTask;
  resolve(counts: ItemCount[]): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  busy: Pending | null;
  /**
   * Where the thread reads the lines of its tasks, one buffer reused: a Uint8Array posted as such is
   * copied into the thread, and the copies piled up there (tens of MB a thread) until its garbage
   * collector ran.
   */
  lines: SharedArrayBuffer | null;
}

/**
 * Counts tokens in worker threads, one per core (started on first use), so counting never blocks the calling thread and a
 * large write is counted on every core at once: the items of one `count` call are split into
 * batches spread over the threads, and the counts come back in the items' order.
 */
export class WorkerTokenCounter implements TokenCounter {
  private readonly tokenizer: Tokenizer;
  private readonly threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private readonly batchChars: number;
  private readonly size: number;
  private nextId = 0;
  private closed = false;

  constructor(settings: TokenSettings, options: WorkerTokenCounterOptions = {}) {
    this.tokenizer = new Tokenizer(settings);
    this.batchChars = options.batchChars ?? 1024 * 1024;
    this.size = Math.max(1, options.threads ?? availableParallelism());
  }

  async count(modelId: string | null, items: readonly string[], format: Format = 'ctxvault'): Promise<ItemCount[]> {
    const batches = await Promise.all(this.batches(items).map((batch) => this.task(modelId, batch, format)));
    return batches.flat();
  }

  /** One thread decodes and splits the lines and counts them: the caller only hands over bytes. */
  countLines(modelId: string | null, lines: Uint8Array, format: Format = 'ctxvault'): Promise<ItemCount[]> {
    return this.task(modelId, lines, format);
  }

  private async task(modelId: string | null, items: CountTask['items'], format: Format): Promise<ItemCount[]> {
    if (this.closed) throw new Error('token counter is closed');
    const encoding = this.tokenizer.encodingFor(modelId);
    const pricing = mediaPricingFor(modelId);
    return new Promise<ItemCount[]>((resolve, reject) => {
      this.queue.push({ task: { id: this.nextId++, encoding, format, pricing, items }, resolve, reject });
      this.dispatch();
    });
  }

  /** The V8 heap figures of each counting thread started (tests, profiles). */
  threadHeaps(): Promise<HeapInfo[]> {
    return Promise.all(this.threads.map(({ worker }) => worker.getHeapStatistics()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('token counter closed'));
    await Promise.all(this.threads.map(({ worker }) => worker.terminate()));
  }

  /** Consecutive runs of items of about `batchChars` characters, at least one item each. */
  private batches(items: readonly string[]): (readonly string[])[] {
    const out: (readonly string[])[] = [];
    let start = 0;
    let chars = 0;
    for (let i = 0; i < items.length; i++) {
      chars += items[i]!.length;
      if (chars >= this.batchChars) {
        out.push(items.slice(start, i + 1));
        start = i + 1;
        chars = 0;
      }
    }
    if (start < items.length || out.length === 0) out.push(items.slice(start));
    return out;
  }

  private dispatch(): void {
    // threads start with the first count: a process that never counts (the API) never pays for them
    while (this.threads.length < this.size && this.queue.length > 0) this.threads.push(this.spawn());
    for (const thread of this.threads) {
      if (thread.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      next.task = this.handOver(thread, next.task);
      thread.busy = next;
      thread.worker.postMessage(next.task);
    }
  }

  /** `task`, its lines (if given as bytes) copied into the thread's shared buffer: the caller's bytes are not kept. */
  private handOver(thread: Thread, task: CountTask): CountTask {
    const { items } = task;
    if (!(items instanceof Uint8Array)) return task;
    if (!thread.lines || thread.lines.byteLength < items.length) {
      let size = 64 * 1024;
      while (size < items.length) size *= 2;
      thread.lines = new SharedArrayBuffer(size);
    }
    const lines = new Uint8Array(thread.lines, 0, items.length);
    lines.set(items);
    return { ...task, items: lines };
  }

  private spawn(): Thread {
    const thread: Thread = {
      worker: new Worker(COUNT_WORKER, { resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } }),
      busy: null,
      lines: null,
    };
    // idle threads do not keep the process alive; a pending count does, through its caller
    thread.worker.unref();
    thread.worker.on('message', (reply: CountReply) => {
      const pending = thread.busy;
      thread.busy = null;
      if (pending && pending.task.id === reply.id) {
        if ('error' in reply) pending.reject(new Error(`token counting failed: ${reply.error}`));
        else pending.resolve(reply.counts);
      }
      this.dispatch();
    });
    const replace = (err: Error) => {
      thread.busy?.reject(err);
      thread.busy = null;
      if (this.closed) return;
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads[index] = this.spawn();
      this.dispatch();
    };
    thread.worker.on('error', replace);
    thread.worker.on('exit', (code) => replace(new Error(`token counting thread exited with code ${code}`)));
    return thread;
  }
}

/** The counter the processes use: worker threads on every core. */
export function createTokenCounter(settings: TokenSettings, options?: WorkerTokenCounterOptions): TokenCounter {
  return new WorkerTokenCounter(settings, options);
}
