import { createHash } from 'node:crypto';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/**
 * Runs a statement on a hot path (every job's submit, start and finish) as a
 * named prepared statement, in `em`'s transaction if it has one. em.execute()
 * inlines the values into the text, so PostgreSQL parses and plans every call
 * afresh, which cost as much as running these statements; prepared, each
 * connection plans a statement once (the name is derived from the text) and
 * the values travel as parameters. `?` marks a parameter, as in em.execute().
 * Errors are the driver's own, not MikroORM's exception classes.
 */
export async function executePrepared<T>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
): Promise<T[]> {
  const name = `daestro_${createHash('sha1').update(sql).digest('base64url')}`;
  const query = em
    .getConnection()
    .getKnex()
    // Our parameters are values (ids, text, numbers, dates, null), which is all a raw binding needs to be.
    .raw(sql, params as Knex.RawBinding[])
    .options({ name });
  const transaction = em.getTransactionContext();
  if (transaction) query.transacting(transaction);
  const result = (await query) as { rows: T[] };
  return result.rows;
}
