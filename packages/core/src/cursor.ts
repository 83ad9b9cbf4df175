import { ValidationError } from './errors/index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** List cursors are opaque to clients: the last id of a page, base64url encoded. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!UUID.test(id))
    throw new ValidationError('cursor is not one this API issued', [{ path: 'cursor', message: 'invalid cursor' }]);
  return id;
}

/** History cursors: the last version number of a page, base64url encoded. */
export function encodeVersionCursor(lastVersion: number): string {
  return Buffer.from(`v${lastVersion}`).toString('base64url');
}

export function decodeVersionCursor(cursor: string): number {
  const match = /^v([1-9][0-9]{0,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match)
    throw new ValidationError('cursor is not one this API issued', [{ path: 'cursor', message: 'invalid cursor' }]);
  return Number(match[1]);
}
