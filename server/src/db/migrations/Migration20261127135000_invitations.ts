import { Migration } from '@mikro-orm/migrations';

/** Invitations to join an organization. */
export class Migration20261127135000_invitations extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "invitation" ("id" uuid not null, "organization_id" uuid not null, "email" text not null, "role" text check ("role" in ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')) not null, "token_hash" text not null, "invited_by_id" uuid not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "accepted_at" timestamptz null, "revoked_at" timestamptz null, constraint "invitation_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "invitation" add constraint "invitation_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(
      `create index "invitation_organization_id_email_index" on "invitation" ("organization_id", "email");`,
    );
    this.addSql(
      `alter table "invitation" add constraint "invitation_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "invitation" add constraint "invitation_invited_by_id_foreign" foreign key ("invited_by_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );
  }
}
