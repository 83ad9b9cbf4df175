/**
 * Bytes copied one after the other into pieces of `pieceBytes`: a response is handed on in pieces of
 * that size, one socket write each, instead of in pieces as small or as large as its sources'
 * (an item line, a 5 MiB S3 part). Each byte is copied once, into the piece that sends it.
 */
export class BytePieces {
  private piece: Buffer;
  private used = 0;
  private full: Buffer[] = [];

  constructor(private readonly pieceBytes: number) {
    this.piece = Buffer.allocUnsafe(pieceBytes);
  }

  /** Appends `bytes[from, to)`. */
  write(bytes: Buffer, from = 0, to = bytes.length): void {
    while (from < to) {
      const n = Math.min(to - from, this.pieceBytes - this.used);
      bytes.copy(this.piece, this.used, from, from + n);
      this.used += n;
      from += n;
      if (this.used === this.pieceBytes) this.complete();
    }
  }

  /** Appends one byte. */
  byte(value: number): void {
    this.piece[this.used++] = value;
    if (this.used === this.pieceBytes) this.complete();
  }

  /** The pieces completed since the last call. */
  takeFull(): Buffer[] {
    const full = this.full;
    this.full = [];
    return full;
  }

  /** What is left in the unfinished piece (the end of the bytes). */
  takeRest(): Buffer {
    const rest = this.piece.subarray(0, this.used);
    this.piece = Buffer.allocUnsafe(this.pieceBytes);
    this.used = 0;
    return rest;
  }

  private complete(): void {
    this.full.push(this.piece);
    this.piece = Buffer.allocUnsafe(this.pieceBytes);
    this.used = 0;
  }
}
