/** What {@link LineSplitter.push} finds in the bytes it is given, in order. */
export type Line =
  /** a whole line, decoded as UTF-8, without its `\n` (nor a `\r` before it) */
  | { kind: 'line'; text: string }
  /**
   * a line longer than the limit, dropped as it arrived: `bytes` is its length, `head` and `tail`
   * its first and last bytes (at most {@link EDGE_BYTES} each), enough to name a request's id
   */
  | { kind: 'too_long'; bytes: number; head: string; tail: string };

/** how many bytes of each end of a line too long are kept */
export const EDGE_BYTES = 256;

/**
 * Splits a byte stream into `\n`-terminated lines in time linear in its size: chunks are kept in a
 * list until their line ends and only the new bytes are searched for `\n` (the MCP SDK's
 * `ReadBuffer` concatenates the whole buffer on every chunk and searches it from the start, so a
 * 20 MiB line costs seconds). A line is decoded once it is whole, so a multi-byte character split
 * across chunks decodes correctly. A line of more than `maxBytes` bytes is not held: its bytes are
 * dropped as they come and it is reported once its `\n` arrives.
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  /** bytes of the current line seen so far (held in `chunks`, or dropped when over the limit) */
  private bytes = 0;
  private head: Buffer | undefined;
  private tail: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): Line[] {
    const lines: Line[] = [];
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, end));
      lines.push(this.endLine());
      start = end + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
    return lines;
  }

  /** forgets the line under way */
  clear(): void {
    this.chunks = [];
    this.bytes = 0;
    this.head = undefined;
    this.tail = Buffer.alloc(0);
  }

  private take(part: Buffer): void {
    if (part.length === 0) return;
    this.bytes += part.length;
    if (this.head === undefined && this.bytes <= this.maxBytes) {
      this.chunks.push(part);
      return;
    }
    if (this.head === undefined) {
      // just went over the limit: keep the ends, drop the rest
      const parts = [...this.chunks, part];
      this.head = firstBytes(parts, EDGE_BYTES);
      this.tail = lastBytes(parts, EDGE_BYTES);
      this.chunks = [];
    } else {
      this.tail = lastBytes([this.tail, part], EDGE_BYTES);
    }
  }

  private endLine(): Line {
    let line: Line;
    if (this.head === undefined) {
      const whole = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
      const crlf = whole.length > 0 && whole[whole.length - 1] === 0x0d;
      line = { kind: 'line', text: whole.toString('utf8', 0, crlf ? whole.length - 1 : whole.length) };
    } else {
      line = {
        kind: 'too_long',
        bytes: this.bytes,
        head: this.head.toString('utf8'),
        tail: this.tail.toString('utf8'),
      };
    }
    this.clear();
    return line;
  }
}

function firstBytes(parts: Buffer[], n: number): Buffer {
  const kept: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    if (size >= n) break;
    kept.push(part.subarray(0, n - size));
    size += kept.at(-1)!.length;
  }
  return Buffer.concat(kept);
}

function lastBytes(parts: Buffer[], n: number): Buffer {
  const kept: Buffer[] = [];
  let size = 0;
  for (let i = parts.length - 1; i >= 0 && size < n; i--) {
    const part = parts[i]!;
    kept.unshift(part.subarray(Math.max(0, part.length - (n - size))));
    size += kept[0]!.length;
  }
  return Buffer.concat(kept);
}
