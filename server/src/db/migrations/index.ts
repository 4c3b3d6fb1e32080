import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127120000_installation } from './Migration20261127120000_installation.js';
import { Migration20261127123000_accounts } from './Migration20261127123000_accounts.js';
import { Migration20261127130000_mail_outbox } from './Migration20261127130000_mail_outbox.js';
import { Migration20261127135000_invitations } from './Migration20261127135000_invitations.js';
import { Migration20261127140000_oauth } from './Migration20261127140000_oauth.js';
import { Migration20261127150000_secrets } from './Migration20261127150000_secrets.js';
import { Migration20261127151000_credentials } from './Migration20261127151000_credentials.js';
import { Migration20261127152000_workloads } from './Migration20261127152000_workloads.js';
import { Migration20261127160000_run_logs } from './Migration20261127160000_run_logs.js';
import { Migration20261127170000_run_placement } from './Migration20261127170000_run_placement.js';
import { Migration20261127180000_log_retention } from './Migration20261127180000_log_retention.js';
import { Migration20261127190000_job_state_index } from './Migration20261127190000_job_state_index.js';
import { Migration20261127200000_run_log_chunks } from './Migration20261127200000_run_log_chunks.js';

/**
 * Every migration, in order. Listed explicitly (not discovered by path) so that
 * the compiled server and vitest, which cannot load .ts files by path, run the
 * same list. `pnpm --filter @daestro/server migration:create` writes a new file:
 * add it here; a test fails when entities and migrations disagree.
 */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261127120000_installation', class: Migration20261127120000_installation },
  { name: 'Migration20261127123000_accounts', class: Migration20261127123000_accounts },
  { name: 'Migration20261127130000_mail_outbox', class: Migration20261127130000_mail_outbox },
  { name: 'Migration20261127135000_invitations', class: Migration20261127135000_invitations },
  { name: 'Migration20261127140000_oauth', class: Migration20261127140000_oauth },
  { name: 'Migration20261127150000_secrets', class: Migration20261127150000_secrets },
  { name: 'Migration20261127151000_credentials', class: Migration20261127151000_credentials },
  { name: 'Migration20261127152000_workloads', class: Migration20261127152000_workloads },
  { name: 'Migration20261127160000_run_logs', class: Migration20261127160000_run_logs },
  { name: 'Migration20261127170000_run_placement', class: Migration20261127170000_run_placement },
  { name: 'Migration20261127180000_log_retention', class: Migration20261127180000_log_retention },
  { name: 'Migration20261127190000_job_state_index', class: Migration20261127190000_job_state_index },
  { name: 'Migration20261127200000_run_log_chunks', class: Migration20261127200000_run_log_chunks },
];
