import { validate as isUuid } from 'uuid';

/**
 * Ids come from callers; PostgreSQL rejects a malformed uuid with an error that
 * would surface as an internal error. A malformed id simply matches nothing.
 */
export function isValidId(id: string): boolean {
  return isUuid(id);
}
