import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../server/src/db/embedded-postgres.js';
import { initOrm, migrate } from '../../server/src/db/orm.js';
import { createLogger } from '../../server/src/logger.js';
import { databaseUrl, randomDatabaseName } from './database-names.js';
import './provided-context.js';

/**
 * Once per run: a PostgreSQL server (DATABASE_URL's when set, else an embedded
 * throwaway cluster without fsync) and a migrated template database, so each
 * test file gets a fresh, migrated database with one fast CREATE DATABASE.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('silent');
  let embedded: EmbeddedPostgres | undefined;
  let clusterDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    clusterDir = await mkdtemp(path.join(tmpdir(), 'daestro-test-pg-'));
    embedded = await startEmbeddedPostgres({
      dataDir: clusterDir,
      log,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    adminUrl = embedded.adminUrl;
  }

  const template = randomDatabaseName('daestro_template');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${admin.escapeIdentifier(template)}`);
  const orm = await initOrm(databaseUrl(adminUrl, template));
  await migrate(orm);
  await orm.close(true);

  project.provide('testAdminUrl', adminUrl);
  project.provide('testTemplateDatabase', template);

  return async () => {
    await admin.query(`drop database if exists ${admin.escapeIdentifier(template)} with (force)`);
    await admin.end();
    await embedded?.stop();
    if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
  };
}
