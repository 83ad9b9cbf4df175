/** `Content-Range: bytes <start>-<end>/<size>` of a 206 answer. */
export interface ContentRange {
  start: number;
  end: number;
  size: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

export function parseContentRange(header: string | undefined): ContentRange | null {
  const match = header === undefined ? null : CONTENT_RANGE.exec(header.trim());
  if (!match) return null;
  return { start: Number(match[1]), end: Number(match[2]), size: Number(match[3]) };
}
