import { wrap } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * A related entity, loaded if it is still a bare reference. Entities already in
 * the operation's identity map (e.g. the queue shared by a page of jobs) cost no query.
 */
export async function loaded<T extends object>(entity: T): Promise<T> {
  return wrap(entity, true).isInitialized() ? entity : ((await wrap(entity).init()) as T);
}

/** Same as `loaded`, for optional relations. */
export async function loadedOrNull<T extends object>(entity: T | undefined | null): Promise<T | null> {
  return entity ? loaded(entity) : null;
}

/**
 * Runs `work` in a transaction on the operation's own EntityManager, so every
 * service sharing it (the audit log too) writes inside it; commit flushes.
 */
export async function inTransaction<T>(em: EntityManager, work: () => Promise<T>): Promise<T> {
  await em.begin();
  try {
    const result = await work();
    await em.commit();
    return result;
  } catch (error) {
    await em.rollback();
    throw error;
  }
}
