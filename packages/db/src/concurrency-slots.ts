/** A fixed number of slots taken without waiting: a caller that finds none refuses its work instead of queueing it. */
export class ConcurrencySlots {
  private used = 0;

  constructor(private readonly size: number) {}

  get taken(): number {
    return this.used;
  }

  tryTake(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
  }
}
