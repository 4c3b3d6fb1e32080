import { MikroORM, ReflectMetadataProvider, defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from '../logger.js';
import { entities } from './entities.js';
import { migrations } from './migrations/index.js';

export { MikroORM };

/** One advisory-lock key for "migrating": replicas starting together take turns. */
const MIGRATION_LOCK_KEY = 0x64616573; // "daes"

export function ormOptions(clientUrl: string, log?: Logger): Options {
  return defineConfig({
    clientUrl,
    entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: {
      migrationsList: migrations,
      // Used only by `mikro-orm migration:create` to know where to write.
      path: 'dist/db/migrations',
      pathTs: 'src/db/migrations',
      snapshot: false,
      transactional: true,
      allOrNothing: true,
    },
    schemaGenerator: {
      // Tables owned by libraries, created by our migrations or their own: not entities.
      skipTables: ['rate_limit'],
      ignoreSchema: ['pgboss'],
    },
    // min 0: idle connections are dropped rather than kept, so a restarted
    // database is reconnected to on the next query instead of failing it.
    pool: { min: 0, max: 10, acquireTimeoutMillis: 10_000 },
    driverOptions: {
      connection: { connectionTimeoutMillis: 5_000 },
      // knex otherwise prints connection warnings to the console, outside our JSON log.
      log: {
        warn: (message: unknown) => log?.warn({ knex: String(message) }, 'database driver warning'),
        error: (message: unknown) => log?.error({ knex: String(message) }, 'database driver error'),
        deprecate: (message: unknown) => log?.debug({ knex: String(message) }),
        debug: (message: unknown) => log?.trace({ knex: message }),
      },
    },
    // Entities must be fetched through a forked EntityManager (one per operation).
    allowGlobalContext: false,
    debug: log?.isLevelEnabled('trace') ?? false,
    logger: (message) => log?.trace({ orm: message }),
  });
}

export async function initOrm(clientUrl: string, log?: Logger): Promise<MikroORM> {
  return MikroORM.init(ormOptions(clientUrl, log));
}

/**
 * Applies pending migrations in one transaction under an advisory lock, so
 * several replicas starting at once apply each migration exactly once.
 */
export async function migrate(orm: MikroORM): Promise<string[]> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.getMigrator().up({ transaction: em.getTransactionContext() });
    return applied.map((migration) => migration.name);
  });
}
