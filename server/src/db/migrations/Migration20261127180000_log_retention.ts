import { Migration } from '@mikro-orm/migrations';

/** Log storage accounting and retention (issue 7): bytes per run, purge and eviction marks. */
export class Migration20261127180000_log_retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "job_run" add column "log_bytes" bigint not null default 0, add column "log_evicted_at" timestamptz null, add column "data_purged_at" timestamptz null;`,
    );
    // Lines stored before this migration count too.
    this.addSql(
      `update "job_run" r set "log_bytes" = stored.bytes from (select "run_id", sum(octet_length("text")) as bytes from "run_log_line" group by "run_id") stored where stored."run_id" = r."id";`,
    );
    this.addSql(
      `create index "job_run_retention_index" on "job_run" ("finished_at") where "data_purged_at" is null;`,
    );
  }
}
