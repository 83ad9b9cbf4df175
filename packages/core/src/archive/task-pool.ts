/**
 * The item bytes of one context an archive command (export, import, rebuild) holds in memory, by
 * default, so that it can work on the next contexts meanwhile; a larger context streams instead.
 */
export const HELD_CONTEXT_BYTES = 8 * 1024 * 1024;

/**
 * Runs tasks a few at a time: `run` starts one and waits while the pool is full. A task's failure
 * is thrown by the next `run` or by `drain`; the tasks already running are left to finish.
 */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { err: unknown } | null = null;

  constructor(private readonly size: number) {}

  async run(task: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    const one: Promise<void> = task()
      .catch((err: unknown) => {
        this.failure ??= { err };
      })
      .finally(() => this.running.delete(one));
    this.running.add(one);
    while (this.running.size >= this.size) await Promise.race(this.running);
    this.throwIfFailed();
  }

  /** Waits for every task; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every task, whatever their outcome (before giving up on an error of one's own). */
  async settle(): Promise<void> {
    while (this.running.size) await Promise.all(this.running);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.err;
  }
}
