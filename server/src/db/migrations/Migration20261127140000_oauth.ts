import { Migration } from '@mikro-orm/migrations';

/** Sign-in with GitHub and Google: linked identities, attempts in progress (state + PKCE), sign-up tickets. */
export class Migration20261127140000_oauth extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "oauth_attempt" ("id" uuid not null, "provider" text check ("provider" in ('GITHUB', 'GOOGLE')) not null, "state_hash" text not null, "code_verifier" text null, "browser_hash" text not null, "next" text not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "oauth_attempt_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "oauth_attempt" add constraint "oauth_attempt_state_hash_unique" unique ("state_hash");`,
    );
    this.addSql(`create index "oauth_attempt_expires_at_index" on "oauth_attempt" ("expires_at");`);
    this.addSql(
      `create table "oauth_sign_up_ticket" ("id" uuid not null, "ticket_hash" text not null, "browser_hash" text not null, "provider" text check ("provider" in ('GITHUB', 'GOOGLE')) not null, "provider_user_id" text not null, "email" text not null, "name" text not null, "next" text not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "oauth_sign_up_ticket_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "oauth_sign_up_ticket" add constraint "oauth_sign_up_ticket_ticket_hash_unique" unique ("ticket_hash");`,
    );
    this.addSql(
      `create index "oauth_sign_up_ticket_expires_at_index" on "oauth_sign_up_ticket" ("expires_at");`,
    );
    this.addSql(
      `create table "oauth_identity" ("id" uuid not null, "user_id" uuid not null, "provider" text check ("provider" in ('GITHUB', 'GOOGLE')) not null, "provider_user_id" text not null, "email" text not null, "created_at" timestamptz not null, constraint "oauth_identity_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "oauth_identity_user_id_index" on "oauth_identity" ("user_id");`);
    this.addSql(
      `alter table "oauth_identity" add constraint "oauth_identity_provider_provider_user_id_unique" unique ("provider", "provider_user_id");`,
    );
    this.addSql(
      `alter table "oauth_identity" add constraint "oauth_identity_user_id_foreign" foreign key ("user_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );
  }
}
