import { Migration } from '@mikro-orm/migrations';

/** Envelope encryption: one wrapped data key per secret, plus the installation's fingerprint key. */
export class Migration20261127150000_secrets extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "data_key" ("id" uuid not null, "role" text null, "master_key_id" text not null, "wrapped_key" text not null, "created_at" timestamptz not null, constraint "data_key_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "data_key" add constraint "data_key_role_unique" unique ("role");`);
    this.addSql(`create index "data_key_master_key_id_index" on "data_key" ("master_key_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "data_key" cascade;`);
  }
}
