import { Migration } from '@mikro-orm/migrations';

/**
 * A run keeps where it ran by name (spawn_hostname, compute_environment_name, set
 * at placement), so its machine may go: job_run.spawn_id becomes ON DELETE SET
 * NULL and a compute environment whose runs are all finished can be deleted.
 */
export class Migration20261127170000_run_placement extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "job_run" drop constraint "job_run_spawn_id_foreign";`);
    this.addSql(
      `alter table "job_run" add column "spawn_hostname" text null, add column "compute_environment_name" text null;`,
    );
    this.addSql(
      `update "job_run" r set "spawn_hostname" = s."hostname", "compute_environment_name" = e."name"
       from "compute_spawn" s join "compute_environment" e on e."id" = s."compute_environment_id"
       where s."id" = r."spawn_id";`,
    );
    this.addSql(
      `alter table "job_run" alter column "spawn_hostname" set not null, alter column "compute_environment_name" set not null;`,
    );
    this.addSql(`alter table "job_run" alter column "spawn_id" drop not null;`);
    this.addSql(
      `alter table "job_run" add constraint "job_run_spawn_id_foreign" foreign key ("spawn_id") references "compute_spawn" ("id") on update cascade on delete set null;`,
    );
  }
}
