import { Migration } from '@mikro-orm/migrations';

/** Job definitions (versioned), queues and their compute environment links, spawns, jobs, runs and cron schedules. */
export class Migration20261127152000_workloads extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "job_definition_type" as enum ('DOCKER', 'BASH');`);
    this.addSql(`create type "cron_overlap_policy" as enum ('ALLOW', 'FORBID', 'REPLACE');`);
    this.addSql(`create type "compute_environment_kind" as enum ('SELF_HOSTED', 'CLOUD');`);
    this.addSql(
      `create type "compute_spawn_state" as enum ('PROVISIONING', 'ONLINE', 'OFFLINE', 'LOST', 'TERMINATED');`,
    );
    this.addSql(
      `create type "job_state" as enum ('SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'CANCELLING', 'COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'ERROR');`,
    );
    this.addSql(
      `create type "job_run_state" as enum ('STARTING', 'RUNNING', 'CANCELLING', 'COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'ERROR');`,
    );
    this.addSql(`create type "failure_class" as enum ('APP_FAILURE', 'INFRA_FAILURE', 'TIMEOUT');`);
    this.addSql(
      `create table "job_queue" ("id" uuid not null, "project_id" uuid not null, "name" text not null, "description" text not null default '', "priority" int not null, "max_concurrency" int not null, "max_idle_seconds" int not null, "enabled" boolean not null default false, "created_at" timestamptz not null, constraint "job_queue_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "job_queue" add constraint "job_queue_project_id_name_unique" unique ("project_id", "name");`,
    );
    this.addSql(
      `create table "job_definition" ("id" uuid not null, "project_id" uuid not null, "name" text not null, "version" int not null, "type" "job_definition_type" not null, "image" text null, "registry_auth_id" uuid null, "script" text null, "command" jsonb not null, "parameters" jsonb not null, "env" jsonb not null, "cpu" double precision not null, "memory_mib" int not null, "timeout_seconds" int not null, "retry_policy" jsonb not null, "privileged" boolean not null, "active" boolean not null default true, "created_by_id" uuid null, "created_at" timestamptz not null, constraint "job_definition_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "job_definition_project_id_name_index" on "job_definition" ("project_id", "name");`,
    );
    this.addSql(
      `alter table "job_definition" add constraint "job_definition_project_id_name_version_unique" unique ("project_id", "name", "version");`,
    );
    this.addSql(
      `create table "cron_schedule" ("id" uuid not null, "project_id" uuid not null, "name" text not null, "expression" text not null, "timezone" text not null, "overlap_policy" "cron_overlap_policy" not null, "enabled" boolean not null default true, "definition_id" uuid not null, "queue_id" uuid not null, "overrides" jsonb not null, "last_fired_at" timestamptz null, "next_fire_at" timestamptz null, "created_by_id" uuid null, "created_at" timestamptz not null, constraint "cron_schedule_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "cron_schedule_next_fire_at_index" on "cron_schedule" ("next_fire_at");`);
    this.addSql(
      `alter table "cron_schedule" add constraint "cron_schedule_project_id_name_unique" unique ("project_id", "name");`,
    );
    this.addSql(
      `create table "compute_environment" ("id" uuid not null, "project_id" uuid not null, "name" text not null, "kind" "compute_environment_kind" not null, "slots_per_spawn" int not null, "registration_token_hash" text null, "registration_token_prefix" text null, "cloud_auth_id" uuid null, "region" text null, "instance_type" text null, "max_spawns" int null, "created_at" timestamptz not null, constraint "compute_environment_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "compute_environment" add constraint "compute_environment_registration_token_hash_unique" unique ("registration_token_hash");`,
    );
    this.addSql(
      `alter table "compute_environment" add constraint "compute_environment_project_id_name_unique" unique ("project_id", "name");`,
    );
    this.addSql(
      `create table "job_queue_link" ("queue_id" uuid not null, "compute_environment_id" uuid not null, "position" int not null, constraint "job_queue_link_pkey" primary key ("queue_id", "compute_environment_id"));`,
    );
    this.addSql(
      `alter table "job_queue_link" add constraint "job_queue_link_queue_id_position_unique" unique ("queue_id", "position");`,
    );
    this.addSql(
      `create table "compute_spawn" ("id" uuid not null, "compute_environment_id" uuid not null, "state" "compute_spawn_state" not null, "hostname" text not null, "agent_token_hash" text null, "slots" int not null, "slots_used" int not null default 0, "cpu_count" double precision null, "memory_mib" int null, "provider_instance_id" text null, "instance_type" text null, "public_ipv4" text null, "public_ipv6" text null, "last_heartbeat_at" timestamptz null, "lease_expires_at" timestamptz null, "idle_since" timestamptz null, "created_at" timestamptz not null, constraint "compute_spawn_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "compute_spawn" add constraint "compute_spawn_agent_token_hash_unique" unique ("agent_token_hash");`,
    );
    this.addSql(
      `create index "compute_spawn_compute_environment_id_state_index" on "compute_spawn" ("compute_environment_id", "state");`,
    );
    this.addSql(
      `create table "job" ("id" uuid not null, "project_id" uuid not null, "queue_id" uuid not null, "definition_id" uuid not null, "name" text not null, "overrides" jsonb not null, "schedule_at" timestamptz null, "state" "job_state" not null default 'SUBMITTED', "system_note" text null, "attempts" int not null default 0, "retry_at" timestamptz null, "created_by_id" uuid null, "created_by_token_id" uuid null, "created_by_schedule_id" uuid null, "resubmitted_from_id" uuid null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, constraint "job_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "job_created_by_schedule_id_state_index" on "job" ("created_by_schedule_id", "state");`,
    );
    this.addSql(`create index "job_project_id_created_at_index" on "job" ("project_id", "created_at");`);
    this.addSql(
      `create index "job_queue_id_state_created_at_index" on "job" ("queue_id", "state", "created_at");`,
    );
    this.addSql(`alter table "job" add constraint "job_queue_id_name_unique" unique ("queue_id", "name");`);
    this.addSql(
      `create table "job_run" ("id" uuid not null, "job_id" uuid not null, "attempt" int not null, "state" "job_run_state" not null default 'STARTING', "spawn_id" uuid not null, "lease_token" uuid null, "claimed_at" timestamptz null, "started_at" timestamptz null, "finished_at" timestamptz null, "deadline_at" timestamptz null, "exit_code" int null, "failure_class" "failure_class" null, "system_note" text null, "created_at" timestamptz not null, constraint "job_run_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "job_run_spawn_id_state_index" on "job_run" ("spawn_id", "state");`);
    this.addSql(
      `alter table "job_run" add constraint "job_run_job_id_attempt_unique" unique ("job_id", "attempt");`,
    );
    this.addSql(
      `create table "cron_fire" ("schedule_id" uuid not null, "slot" timestamptz not null, "job_id" uuid null, "note" text null, "fired_at" timestamptz not null, constraint "cron_fire_pkey" primary key ("schedule_id", "slot"));`,
    );
    this.addSql(
      `alter table "job_queue" add constraint "job_queue_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "job_definition" add constraint "job_definition_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "job_definition" add constraint "job_definition_registry_auth_id_foreign" foreign key ("registry_auth_id") references "registry_auth" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "job_definition" add constraint "job_definition_created_by_id_foreign" foreign key ("created_by_id") references "user_account" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "cron_schedule" add constraint "cron_schedule_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "cron_schedule" add constraint "cron_schedule_definition_id_foreign" foreign key ("definition_id") references "job_definition" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "cron_schedule" add constraint "cron_schedule_queue_id_foreign" foreign key ("queue_id") references "job_queue" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "cron_schedule" add constraint "cron_schedule_created_by_id_foreign" foreign key ("created_by_id") references "user_account" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "compute_environment" add constraint "compute_environment_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "compute_environment" add constraint "compute_environment_cloud_auth_id_foreign" foreign key ("cloud_auth_id") references "cloud_auth" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "job_queue_link" add constraint "job_queue_link_queue_id_foreign" foreign key ("queue_id") references "job_queue" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "job_queue_link" add constraint "job_queue_link_compute_environment_id_foreign" foreign key ("compute_environment_id") references "compute_environment" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "compute_spawn" add constraint "compute_spawn_compute_environment_id_foreign" foreign key ("compute_environment_id") references "compute_environment" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "job" add constraint "job_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "job" add constraint "job_queue_id_foreign" foreign key ("queue_id") references "job_queue" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "job" add constraint "job_definition_id_foreign" foreign key ("definition_id") references "job_definition" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "job" add constraint "job_created_by_id_foreign" foreign key ("created_by_id") references "user_account" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "job" add constraint "job_created_by_token_id_foreign" foreign key ("created_by_token_id") references "api_token" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "job" add constraint "job_created_by_schedule_id_foreign" foreign key ("created_by_schedule_id") references "cron_schedule" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "job" add constraint "job_resubmitted_from_id_foreign" foreign key ("resubmitted_from_id") references "job" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "job_run" add constraint "job_run_job_id_foreign" foreign key ("job_id") references "job" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "job_run" add constraint "job_run_spawn_id_foreign" foreign key ("spawn_id") references "compute_spawn" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "cron_fire" add constraint "cron_fire_schedule_id_foreign" foreign key ("schedule_id") references "cron_schedule" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "cron_fire" add constraint "cron_fire_job_id_foreign" foreign key ("job_id") references "job" ("id") on update cascade on delete set null;`,
    );
  }
}
