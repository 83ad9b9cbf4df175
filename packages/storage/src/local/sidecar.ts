import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './durable-fs.ts';
import { sidecarPathFor } from './file-names.ts';

/** What S3 keeps in an object's headers, kept by the local store in `<file>.meta.json`. */
export interface Sidecar {
  etag: string;
  size: number;
  metadata: Record<string, string>;
}

export function writeSidecar(file: string, sidecar: Sidecar): Promise<void> {
  return writeFileAtomic(sidecarPathFor(file), JSON.stringify(sidecar));
}

/** The sidecar of `file`, or null when it is missing or unreadable (e.g. files copied in by hand). */
export async function readSidecar(file: string): Promise<Sidecar | null> {
  try {
    return JSON.parse(await readFile(sidecarPathFor(file), 'utf8')) as Sidecar;
  } catch {
    return null;
  }
}
