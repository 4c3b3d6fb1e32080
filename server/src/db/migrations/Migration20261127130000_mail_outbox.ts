import { Migration } from '@mikro-orm/migrations';

/** The development outbox: mail kept for the dashboard instead of sent. */
export class Migration20261127130000_mail_outbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "mail_outbox_message" ("id" uuid not null, "to" text not null, "subject" text not null, "text" text not null, "html" text not null, "created_at" timestamptz not null, constraint "mail_outbox_message_pkey" primary key ("id"));`,
    );
    // The dashboard lists one recipient's newest messages.
    this.addSql(
      `create index "mail_outbox_message_to_created_at_index" on "mail_outbox_message" ("to", "created_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "mail_outbox_message" cascade;`);
  }
}
