import { describe, expect, it } from 'vitest';
import { initOrm, migrate } from '../../src/db/orm.js';
import { migrations } from '../../src/db/migrations/index.js';
import { useEmptyDatabase, useTestDatabase } from '../../../test/support/database.js';
import { STORED_LOG_LINES } from '../logs/fixtures.js';

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

  it('carry stored log lines into chunks, cut at gaps and every 2,000 seqs, text and all', async () => {
    const orm = await initOrm(await useEmptyDatabase());
    try {
      await orm.getMigrator().up({ to: 'Migration20261127190000_job_state_index' });
      const runId = '00000000-0000-4000-8000-000000000001';
      const seqs = [...range(1, 2_500), 2_600, 2_601];
      await orm.em.fork().transactional(async (em) => {
        // The run's job, spawn and the rest do not matter here.
        await em.execute('set local session_replication_role = replica');
        await em.execute(
          `insert into job_run (id, job_id, attempt, state, created_at, spawn_hostname, compute_environment_name)
           values (?, gen_random_uuid(), 1, 'RUNNING', now(), 'host', 'environment')`,
          [runId],
        );
        await em.execute(
          `insert into run_log_line (run_id, seq, stream, logged_at, text)
           select ?, seq, case when seq % 2 = 0 then 'STDERR' else 'STDOUT' end::log_stream,
                  timestamptz '2026-11-27 12:00Z' + seq * interval '1 ms', 'line "' || seq || '", {a,b}'
           from unnest(?::int[]) as seq`,
          [runId, `{${seqs.join(',')}}`],
        );
      });
      await orm.getMigrator().up();
      const chunks = await orm.em
        .fork()
        .execute<{ first_seq: number; last_seq: number; lines: number }[]>(
          'select first_seq, last_seq, cardinality(texts) as lines from run_log_chunk where run_id = ? order by last_seq',
          [runId],
        );
      expect(chunks).toEqual([
        { first_seq: 1, last_seq: 2_000, lines: 2_000 },
        { first_seq: 2_001, last_seq: 2_500, lines: 500 },
        { first_seq: 2_600, last_seq: 2_601, lines: 2 },
      ]);
      const lines = await orm.em
        .fork()
        .execute<{ seq: number; stream: string; logged_at: string; text: string }[]>(
          `select seq, stream, logged_at, text from (${STORED_LOG_LINES}) line where run_id = ? order by seq`,
          [runId],
        );
      expect(lines).toHaveLength(seqs.length);
      lines.forEach((line, index) => {
        const seq = seqs[index]!;
        expect({ ...line, logged_at: new Date(line.logged_at) }).toEqual({
          seq,
          stream: seq % 2 === 0 ? 'STDERR' : 'STDOUT',
          logged_at: new Date(Date.UTC(2026, 10, 27, 12, 0, 0, seq)),
          text: `line "${seq}", {a,b}`,
        });
      });
    } finally {
      await orm.close(true);
    }
  });
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
