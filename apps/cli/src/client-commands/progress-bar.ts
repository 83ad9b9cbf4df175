const WIDTH = 30;

/**
 * A progress bar on stderr: redrawn in place on a terminal (at most every 100 ms), otherwise one
 * line each time it passes a quarter, so logs and CI output stay short.
 */
export class ProgressBar {
  private lastDraw = 0;
  private lastQuarter = -1;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** what is counted: bytes (shown in MiB), objects or contexts */
    private readonly unit: 'bytes' | 'objects' | 'contexts' = 'bytes',
  ) {}

  update(done: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const line = `${this.label.padEnd(9)} [${'#'.repeat(Math.round(fraction * WIDTH)).padEnd(WIDTH)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${this.amount(done, total)}`;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (fraction < 1 && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${line}${fraction === 1 ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter === this.lastQuarter) return;
    this.lastQuarter = quarter;
    this.stream.write(`${line}\n`);
  }

  private amount(done: number, total: number): string {
    if (this.unit !== 'bytes') return `${done} / ${total} ${this.unit}`;
    return `${mib(done)} / ${mib(total)} MiB`;
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
