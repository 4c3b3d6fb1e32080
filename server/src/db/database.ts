import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ensureDatabaseExists } from './ensure-database.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { initOrm, migrate, type MikroORM } from './orm.js';

export type DatabaseMode = 'EMBEDDED' | 'EXTERNAL';

/** The database Daestro runs on, migrated and ready. */
export interface Database {
  orm: MikroORM;
  /** Connection string (holds the password: never log it), for pools beside the ORM's, e.g. the job queue. */
  url: string;
  mode: DatabaseMode;
  /** PostgreSQL's server_version, e.g. "18.4". */
  serverVersion: string;
  /** true when the database answers a trivial query within the timeout. */
  isReachable(timeoutMs?: number): Promise<boolean>;
  /** Closes the connection pool, then stops the embedded server if there is one. */
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL when it is unset,
 * and applies pending migrations.
 */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.databaseUrl) {
    await ensureDatabaseExists(config.databaseUrl, log);
    return connect(config.databaseUrl, undefined, log);
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  try {
    return await connect(embedded.url, embedded, log);
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

async function connect(url: string, embedded: EmbeddedPostgres | undefined, log: Logger): Promise<Database> {
  const orm = await initOrm(url, log);
  try {
    const applied = await migrate(orm);
    if (applied.length > 0) log.info({ migrations: applied }, 'applied database migrations');
    const [{ server_version: serverVersion }] = (await orm.em
      .getConnection()
      .execute('show server_version')) as [{ server_version: string }];
    return {
      orm,
      url,
      mode: embedded ? 'EMBEDDED' : 'EXTERNAL',
      serverVersion: serverVersion.split(' ')[0] ?? serverVersion,
      isReachable: (timeoutMs = 2_000) => isReachable(orm, timeoutMs),
      async close() {
        await orm.close(true);
        await embedded?.stop();
      },
    };
  } catch (error) {
    await orm.close(true);
    throw error;
  }
}

async function isReachable(orm: MikroORM, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const check = orm
    .checkConnection()
    .then((result) => result.ok)
    .catch(() => false);
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
