/** The first piece's size when no size is expected: it doubles as it fills, up to the piece size. */
const FIRST_PIECE_BYTES = 16 * 1024;

/**
 * Bytes copied one after the other into pieces of `pieceBytes`: a response is handed on in pieces of
 * that size, one socket write each, instead of in pieces as small or as large as its sources'
 * (an item line, a 5 MiB S3 part). Each byte is copied once into the piece that sends it, except
 * in the first piece: it starts at the size expected of the whole (or 16 KiB) and doubles as it
 * fills, so that a small body (a cached context, a window of recent items) holds no more than about
 * twice its size, not a whole piece (each such buffer lives outside the heap until the socket has
 * sent it, and what a request allocates there makes the collector run sooner).
 */
export class BytePieces {
  private piece: Buffer | null = null;
  private used = 0;
  private full: Buffer[] = [];
  /** the size of the next piece allocated */
  private nextBytes: number;

  constructor(
    private readonly pieceBytes: number,
    expectedBytes = FIRST_PIECE_BYTES,
  ) {
    this.nextBytes = Math.max(1, Math.min(pieceBytes, expectedBytes));
  }

  /** Appends `bytes[from, to)`. */
  write(bytes: Buffer, from = 0, to = bytes.length): void {
    while (from < to) {
      const piece = this.room();
      const n = Math.min(to - from, piece.length - this.used);
      bytes.copy(piece, this.used, from, from + n);
      this.used += n;
      from += n;
    }
  }

  /** Appends one byte. */
  byte(value: number): void {
    this.room()[this.used++] = value;
  }

  /** The pieces completed since the last call. */
  takeFull(): Buffer[] {
    const full = this.full;
    this.full = [];
    return full;
  }

  /** What is left in the unfinished piece (the end of the bytes). */
  takeRest(): Buffer {
    const rest = this.piece ? this.piece.subarray(0, this.used) : Buffer.alloc(0);
    this.piece = null;
    this.used = 0;
    return rest;
  }

  /** The piece with room for at least one more byte: a full one is completed, or grown while smaller than a piece. */
  private room(): Buffer {
    const piece = this.piece;
    if (piece && this.used < piece.length) return piece;
    if (piece && piece.length === this.pieceBytes) this.full.push(piece);
    const next = Buffer.allocUnsafe(this.nextBytes);
    this.nextBytes = Math.min(this.pieceBytes, this.nextBytes * 2);
    if (piece && piece.length < this.pieceBytes) piece.copy(next, 0, 0, this.used);
    else this.used = 0;
    this.piece = next;
    return next;
  }
}
