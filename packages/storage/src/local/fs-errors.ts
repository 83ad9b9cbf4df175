import { BlobStoreError } from '../errors/blob-store-error.ts';
import { InvalidKeyError } from '../errors/invalid-key-error.ts';

/** Turns a Node fs error into a BlobStoreError that says what to fix; `key` when one object was being written. */
export function mapFsError(err: unknown, root: string, key?: string): BlobStoreError {
  if (err instanceof BlobStoreError) return err;
  const cause = { cause: err };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  // EEXIST: mkdir met an object file where the key needs a folder.
  if ((code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') && key !== undefined) {
    return new InvalidKeyError(key, 'on local disk a key cannot also be the folder of other keys');
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new BlobStoreError(
      'access_denied',
      message,
      `make ${root} writable by this process or change storage.local.path (MCP_STORAGE_LOCAL_PATH)`,
      cause,
    );
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BlobStoreError('no_space', message, `free space on the disk holding ${root}`, cause);
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new BlobStoreError('aborted', message, 'the caller cancelled the operation', cause);
  }
  return new BlobStoreError('unknown', message, `check the local storage directory ${root}`, cause);
}
