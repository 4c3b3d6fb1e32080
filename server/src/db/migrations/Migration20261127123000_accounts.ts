import { Migration } from '@mikro-orm/migrations';

/** Users, sessions, email links, organizations, memberships, projects, API tokens, audit events, rate limits. */
export class Migration20261127123000_accounts extends Migration {
  override async up(): Promise<void> {
    // rate-limiter-flexible's table (accounts/throttle.ts), created here so replicas never race to create it.
    this.addSql(
      `create table "rate_limit" ("key" varchar(255) primary key, "points" integer not null default 0, "expire" bigint);`,
    );
    this.addSql(
      `create table "organization" ("id" uuid not null, "name" text not null, "personal" boolean not null default false, "plan" text check ("plan" in ('FREE', 'PRO', 'TEAM')) not null default 'FREE', "created_at" timestamptz not null, constraint "organization_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create table "project" ("id" uuid not null, "organization_id" uuid not null, "code" text not null, "name" text not null, "created_at" timestamptz not null, constraint "project_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "project" add constraint "project_organization_id_code_unique" unique ("organization_id", "code");`,
    );
    this.addSql(
      `create table "user_account" ("id" uuid not null, "name" text not null, "email" text not null, "email_verified_at" timestamptz null, "password_hash" text null, "age_confirmed_at" timestamptz not null, "accepted_policy_version" text not null, "policy_accepted_at" timestamptz not null, "marketing_opt_in" boolean not null default false, "created_at" timestamptz not null, constraint "user_account_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "user_account" add constraint "user_account_email_unique" unique ("email");`);
    this.addSql(
      `create table "user_session" ("id" uuid not null, "user_id" uuid not null, "token_hash" text not null, "ip" text null, "user_agent" text null, "created_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "user_session_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "user_session" add constraint "user_session_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(
      `create table "membership" ("id" uuid not null, "organization_id" uuid not null, "user_id" uuid not null, "role" text check ("role" in ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')) not null, "created_at" timestamptz not null, constraint "membership_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "membership_user_id_index" on "membership" ("user_id");`);
    this.addSql(
      `alter table "membership" add constraint "membership_organization_id_user_id_unique" unique ("organization_id", "user_id");`,
    );
    this.addSql(
      `create table "email_link" ("id" uuid not null, "user_id" uuid not null, "purpose" text check ("purpose" in ('VERIFY_EMAIL', 'RESET_PASSWORD')) not null, "token_hash" text not null, "email" text not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "email_link_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "email_link_user_id_index" on "email_link" ("user_id");`);
    this.addSql(
      `alter table "email_link" add constraint "email_link_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(
      `create table "audit_event" ("id" uuid not null, "organization_id" uuid null, "actor_id" uuid null, "action" text not null, "ip" text null, "user_agent" text null, "details" jsonb not null, "created_at" timestamptz not null, constraint "audit_event_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "audit_event_actor_id_created_at_index" on "audit_event" ("actor_id", "created_at");`,
    );
    this.addSql(
      `create index "audit_event_organization_id_created_at_index" on "audit_event" ("organization_id", "created_at");`,
    );
    this.addSql(
      `create table "api_token" ("id" uuid not null, "name" text not null, "prefix" text not null, "token_hash" text not null, "scopes" text[] not null, "organization_id" uuid not null, "project_id" uuid null, "created_by_id" uuid not null, "created_at" timestamptz not null, "last_used_at" timestamptz null, "expires_at" timestamptz null, "revoked_at" timestamptz null, constraint "api_token_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(`create index "api_token_organization_id_index" on "api_token" ("organization_id");`);
    this.addSql(
      `alter table "project" add constraint "project_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "user_session" add constraint "user_session_user_id_foreign" foreign key ("user_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "membership" add constraint "membership_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "membership" add constraint "membership_user_id_foreign" foreign key ("user_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "email_link" add constraint "email_link_user_id_foreign" foreign key ("user_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "audit_event" add constraint "audit_event_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "audit_event" add constraint "audit_event_actor_id_foreign" foreign key ("actor_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "api_token" add constraint "api_token_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "api_token" add constraint "api_token_project_id_foreign" foreign key ("project_id") references "project" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "api_token" add constraint "api_token_created_by_id_foreign" foreign key ("created_by_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );
  }
}
