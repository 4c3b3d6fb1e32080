import { Migration } from '@mikro-orm/migrations';

/** Cloud auths and registry auths: per project, each secret sealed in `<field>_ciphertext` with its redacted view. */
export class Migration20261127151000_credentials extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "cloud_auth" ("id" uuid not null, "project_id" uuid not null, "name" text not null, "provider" text check ("provider" in ('AWS', 'DIGITALOCEAN', 'LINODE', 'VULTR')) not null, "role_arn" text null, "credential_ciphertext" text not null, "credential_masked" text not null, "credential_fingerprint" text not null, "verification" text check ("verification" in ('VERIFIED', 'UNREACHABLE', 'REJECTED')) not null, "verification_message" text not null, "checked_at" timestamptz not null, "created_at" timestamptz not null, "created_by_id" uuid null, constraint "cloud_auth_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "cloud_auth" add constraint "cloud_auth_project_id_name_unique" unique ("project_id", "name");`,
    );
    this.addSql(
      `alter table "cloud_auth" add constraint "cloud_auth_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "cloud_auth" add constraint "cloud_auth_created_by_id_foreign" foreign key ("created_by_id") references "user_account" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `create table "registry_auth" ("id" uuid not null, "project_id" uuid not null, "name" text not null, "registry_url" text not null, "username" text not null, "password_ciphertext" text not null, "password_masked" text not null, "password_fingerprint" text not null, "created_at" timestamptz not null, "created_by_id" uuid null, constraint "registry_auth_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "registry_auth" add constraint "registry_auth_project_id_name_unique" unique ("project_id", "name");`,
    );
    this.addSql(
      `alter table "registry_auth" add constraint "registry_auth_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "registry_auth" add constraint "registry_auth_created_by_id_foreign" foreign key ("created_by_id") references "user_account" ("id") on update cascade on delete set null;`,
    );
  }
}
