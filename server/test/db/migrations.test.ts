import { describe, expect, it } from 'vitest';
import { initOrm, migrate } from '../../src/db/orm.js';
import { migrations } from '../../src/db/migrations/index.js';
import { useEmptyDatabase, useTestDatabase } from '../../../test/support/database.js';

describe('migrations', () => {
  it('produce exactly the schema the entities describe', async () => {
    const orm = await initOrm(await useTestDatabase());
    try {
      const drift = await orm.schema.getUpdateSchemaSQL({ wrap: false });
      expect(drift.trim(), 'entities changed without a migration: run migration:create').toBe('');
    } finally {
      await orm.close(true);
    }
  });

  it('are applied exactly once when several replicas start together', async () => {
    const url = await useEmptyDatabase();
    const replicas = await Promise.all([initOrm(url), initOrm(url), initOrm(url)]);
    try {
      const applied = await Promise.all(replicas.map((orm) => migrate(orm)));
      expect(applied.flat()).toEqual(migrations.map((m) => m.name));
      const rows = await replicas[0]!.em
        .getConnection()
        .execute('select count(*)::int as count from installation');
      expect(rows).toEqual([{ count: 1 }]);
      expect(await migrate(replicas[0]!)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((orm) => orm.close(true)));
    }
  });
});
