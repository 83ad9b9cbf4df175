import { v7 as uuidv7 } from 'uuid';

/** Context ids are UUIDv7: time-ordered, so keyset pagination by id is pagination by creation. */
export function newContextId(): string {
  return uuidv7();
}
