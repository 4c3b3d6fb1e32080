// Prints the SQL that would bring a database migrated to the latest migration in
// line with the entities: the body of the next hand-written migration.
// Usage: DATABASE_URL=postgres://…/scratch pnpm --filter @daestro/server schema:diff
import 'reflect-metadata';
import { initOrm, migrate } from '../src/db/orm.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL to a scratch database (it is migrated first)');
const orm = await initOrm(url);
try {
  await migrate(orm);
  console.log(await orm.schema.getUpdateSchemaSQL({ wrap: false }));
} finally {
  await orm.close(true);
}
