import pg from 'pg';
import type { Logger } from '../logger.js';

const INVALID_CATALOG_NAME = '3D000';

/**
 * Creates the database named in `url` when it does not exist yet, connecting to
 * the server's `postgres` maintenance database to do so; a fresh PostgreSQL
 * (embedded or the operator's) then needs no manual `createdb`.
 */
export async function ensureDatabaseExists(url: string, log: Logger): Promise<void> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
  } finally {
    await probe.end().catch(() => {});
  }

  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(database)}`);
    log.info({ database }, 'created the database');
  } catch (error) {
    // Another replica created it between our check and our create.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}
