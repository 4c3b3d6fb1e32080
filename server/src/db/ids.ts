import { validate as isUuid, v7 as uuidv7 } from 'uuid';

/** A new id: a UUIDv7, time-ordered so that it indexes well. */
export function newId(): string {
  return uuidv7();
}

/**
 * Ids come from callers; PostgreSQL rejects a malformed uuid with an error that
 * would surface as an internal error. A malformed id simply matches nothing.
 */
export function isValidId(id: string): boolean {
  return isUuid(id);
}
