import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127120000_installation } from './Migration20261127120000_installation.js';

/**
 * Every migration, in order. Listed explicitly (not discovered by path) so that
 * the compiled server and vitest, which cannot load .ts files by path, run the
 * same list. `pnpm --filter @daestro/server migration:create` writes a new file:
 * add it here; a test fails when entities and migrations disagree.
 */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261127120000_installation', class: Migration20261127120000_installation },
];
