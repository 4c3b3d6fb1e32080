import { Migration } from '@mikro-orm/migrations';
import { v7 as uuidv7 } from 'uuid';

export class Migration20261127120000_installation extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "installation" ("id" uuid not null, "installed_at" timestamptz not null, constraint "installation_pkey" primary key ("id"));`,
    );
    this.addSql(`insert into "installation" ("id", "installed_at") values ('${uuidv7()}', now());`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "installation" cascade;`);
  }
}
