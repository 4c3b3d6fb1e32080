import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { databaseUrl, randomDatabaseName } from './database-names.js';
import './provided-context.js';

let migrated: Promise<string> | undefined;

/**
 * The connection string of this test file's own database: a copy of the
 * migrated template, created on first use and dropped after the file's tests.
 */
export function useTestDatabase(): Promise<string> {
  migrated ??= createDatabase(inject('testTemplateDatabase'));
  return migrated;
}

/** A new database with no tables at all (dropped after the file's tests), for migration tests. */
export function useEmptyDatabase(): Promise<string> {
  return createDatabase('template0');
}

/** The URL of a database that does not exist yet (dropped after the file's tests if something creates it). */
export function useMissingDatabase(): string {
  const adminUrl = inject('testAdminUrl');
  const name = randomDatabaseName('daestro_test');
  dropAfterAll(adminUrl, name);
  return databaseUrl(adminUrl, name);
}

async function createDatabase(template: string): Promise<string> {
  const adminUrl = inject('testAdminUrl');
  const name = randomDatabaseName('daestro_test');
  await withAdmin(adminUrl, (admin) =>
    admin.query(
      `create database ${admin.escapeIdentifier(name)} template ${admin.escapeIdentifier(template)}`,
    ),
  );
  dropAfterAll(adminUrl, name);
  return databaseUrl(adminUrl, name);
}

function dropAfterAll(adminUrl: string, name: string): void {
  afterAll(() =>
    withAdmin(adminUrl, (admin) =>
      admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`),
    ),
  );
}

async function withAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
