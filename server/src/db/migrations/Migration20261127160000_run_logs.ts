import { Migration } from '@mikro-orm/migrations';

/** Run log lines and metric samples (issue 6); job_run.log_stored_through. */
export class Migration20261127160000_run_logs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "log_stream" as enum ('STDOUT', 'STDERR', 'SYSTEM');`);
    this.addSql(
      `create table "run_log_line" ("run_id" uuid not null, "seq" int not null, "stream" "log_stream" not null, "logged_at" timestamptz not null, "text" text not null, constraint "run_log_line_pkey" primary key ("run_id", "seq"));`,
    );
    this.addSql(
      `alter table "run_log_line" add constraint "run_log_line_run_id_foreign" foreign key ("run_id") references "job_run" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create table "run_metric_sample" ("run_id" uuid not null, "sampled_at" timestamptz not null, "cpu_percent" double precision not null, "memory_bytes" bigint not null, "memory_limit_bytes" bigint not null, constraint "run_metric_sample_pkey" primary key ("run_id", "sampled_at"));`,
    );
    this.addSql(
      `alter table "run_metric_sample" add constraint "run_metric_sample_run_id_foreign" foreign key ("run_id") references "job_run" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "job_run" add column "log_stored_through" int not null default 0;`);
  }
}
