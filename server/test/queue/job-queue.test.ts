import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobQueue, type JobQueue, type QueuedJob } from '../../src/queue/job-queue.js';
import { useEmptyDatabase, useTestDatabase } from '../../../test/support/database.js';
import { captureLogs } from '../../../test/support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

interface JobRow {
  state: string;
  retry_count: number;
  output: { message?: string; stack?: string; value?: string } | null;
}

let databaseUrl: string;
let db: pg.Pool;

async function jobRow(id: string): Promise<JobRow | undefined> {
  const { rows } = await db.query<JobRow>('select state, retry_count, output from pgboss.job where id = $1', [
    id,
  ]);
  return rows[0];
}

async function queueConnections(): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `select count(*)::int as count from pg_stat_activity where datname = current_database() and application_name = 'daestro-jobs'`,
  );
  return rows[0]!.count;
}

beforeAll(async () => {
  databaseUrl = await useTestDatabase();
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
});

afterAll(async () => {
  await db.end();
});

describe('job queue', () => {
  const { log, lines } = captureLogs();
  let queue: JobQueue;

  beforeAll(async () => {
    queue = await startJobQueue({ databaseUrl, log });
  });

  afterAll(async () => {
    await queue.stop();
  });

  it('works a job that was sent, with its data, and marks it completed', async () => {
    const worked: QueuedJob<{ greeting: string }>[] = [];
    await queue.work<{ greeting: string }>('test.hello', async (job) => void worked.push(job), {
      pollingIntervalSeconds: 0.5,
    });

    const id = await queue.send('test.hello', { greeting: 'hi' });

    await waitFor(async () => (await jobRow(id))?.state === 'completed');
    expect(worked).toEqual([
      { id, name: 'test.hello', data: { greeting: 'hi' }, retryCount: 0, retryLimit: 2 },
    ]);
  });

  it('sends a periodic job once per slot, however many processes ask for it', async () => {
    const other = await startJobQueue({ databaseUrl, log });
    try {
      const first = await queue.sendOncePer('test.hourly', 3_600);
      const again = await Promise.all([
        other.sendOncePer('test.hourly', 3_600),
        queue.sendOncePer('test.hourly', 3_600),
      ]);
      expect([first, ...again]).toEqual([true, false, false]);
      const { rows } = await db.query<{ count: number }>(
        "select count(*)::int as count from pgboss.job where name = 'test.hourly'",
      );
      expect(rows[0]!.count).toBe(1);
    } finally {
      await other.stop();
    }
  });

  it('creates queues when several processes first use several of them at once', async () => {
    // pg-boss's create_queue deadlocks with another creation running at the same moment.
    const fresh = await useEmptyDatabase();
    const replicas = await Promise.all([1, 2, 3].map(() => startJobQueue({ databaseUrl: fresh, log })));
    try {
      const names = ['test.a', 'test.b', 'test.c', 'test.d', 'test.e'];
      const sent = await Promise.allSettled(
        replicas.flatMap((replica) => names.map((name) => replica.send(name, { from: 'replica' }))),
      );
      expect(sent.filter((result) => result.status === 'rejected')).toEqual([]);
      const other = new pg.Client({ connectionString: fresh });
      await other.connect();
      try {
        const { rows } = await other.query<{ name: string; count: number }>(
          'select name, count(*)::int as count from pgboss.job group by name order by name',
        );
        expect(rows).toEqual(names.map((name) => ({ name, count: replicas.length })));
      } finally {
        await other.end();
      }
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  });

  it('retries a failing handler as the job asks, then completes it', async () => {
    const attempts: number[] = [];
    await queue.work(
      'test.flaky',
      async (job) => {
        attempts.push(job.retryCount);
        if (job.retryCount < 2) throw new Error(`provider down (attempt ${job.retryCount + 1})`);
      },
      { pollingIntervalSeconds: 0.5 },
    );

    const id = await queue.send('test.flaky', {}, { retryLimit: 2, retryDelaySeconds: 0 });

    await waitFor(async () => (await jobRow(id))?.state === 'completed');
    expect(attempts).toEqual([0, 1, 2]);
    const failures = lines.filter(
      (line) => line.jobId === id && line.msg === 'job failed; it will be retried',
    );
    expect(
      failures.map((line) => [line.level, line.attempt, (line.err as { message: string }).message]),
    ).toEqual([
      [40, 1, 'provider down (attempt 1)'],
      [40, 2, 'provider down (attempt 2)'],
    ]);
  });

  it('marks a job failed when no retries are left, storing the message but not the stack', async () => {
    let attempts = 0;
    await queue.work(
      'test.broken',
      async () => {
        attempts += 1;
        throw new Error('permanently broken');
      },
      { pollingIntervalSeconds: 0.5 },
    );

    const id = await queue.send(
      'test.broken',
      { secretLink: 'https://x/verify?token=abc' },
      {
        retryLimit: 1,
        retryDelaySeconds: 0,
      },
    );

    await waitFor(async () => (await jobRow(id))?.state === 'failed');
    expect(attempts).toBe(2);
    const row = await jobRow(id);
    expect(row).toMatchObject({ retry_count: 1, output: { message: 'permanently broken' } });
    expect(row?.output?.stack).toBeUndefined();
    const last = lines.find((line) => line.jobId === id && line.msg === 'job failed; no retries left');
    expect(last).toMatchObject({ level: 50, attempt: 2, willRetry: false });
    // Failure logs name the job, never its payload.
    expect(JSON.stringify(lines)).not.toContain('token=abc');
  });

  it('settles each job of a batch on its own', async () => {
    const seen: string[] = [];
    const ids = await Promise.all(
      ['a', 'bad', 'c'].map((key) => queue.send('test.batch', { key }, { retryLimit: 0 })),
    );
    await queue.work<{ key: string }>(
      'test.batch',
      async (job) => {
        seen.push(job.data.key);
        if (job.data.key === 'bad') throw new Error('bad job');
        // Still running when their batch-mate fails: they must not be failed with it.
        await new Promise((resolve) => setTimeout(resolve, 300));
      },
      { batchSize: 3, pollingIntervalSeconds: 0.5 },
    );

    await waitFor(async () => (await Promise.all(ids.map(jobRow))).every((row) => row?.state !== 'active'));
    await waitFor(async () => (await jobRow(ids[2]!))?.state === 'completed');
    expect((await Promise.all(ids.map(jobRow))).map((row) => row?.state)).toEqual([
      'completed',
      'failed',
      'completed',
    ]);
    expect(seen.sort()).toEqual(['a', 'bad', 'c']);
  });

  it('deletes a job once done when asked to, so its payload does not linger', async () => {
    let done = false;
    await queue.work(
      'test.ephemeral',
      async () => {
        done = true;
      },
      { deleteOnSuccess: true, pollingIntervalSeconds: 0.5 },
    );
    const id = await queue.send('test.ephemeral', { link: 'single-use' });

    await waitFor(async () => done && (await jobRow(id)) === undefined);
    const archived = await db.query('select 1 from pgboss.archive where id = $1', [id]);
    expect(archived.rowCount).toBe(0);
  });
});

describe('job queue stop', () => {
  it('waits for a running job to finish, then closes its connections', async () => {
    const { log } = captureLogs();
    const queue = await startJobQueue({ databaseUrl, log });
    let started = false;
    let finished = false;
    await queue.work(
      'test.slow',
      async () => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        finished = true;
      },
      { pollingIntervalSeconds: 0.5 },
    );
    const id = await queue.send('test.slow', {});
    await waitFor(() => started);
    expect(await queueConnections()).toBeGreaterThan(0);

    await queue.stop();

    expect(finished).toBe(true);
    expect((await jobRow(id))?.state).toBe('completed');
    expect(await queueConnections()).toBe(0);
    await queue.stop(); // a second stop (e.g. a second signal) is harmless
  });

  it('gives up on a job still running at the timeout and leaves it for another process to retry', async () => {
    const { log } = captureLogs();
    const queue = await startJobQueue({ databaseUrl, log });
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    await queue.work(
      'test.stuck',
      async () => {
        started = true;
        await stuck;
      },
      { pollingIntervalSeconds: 0.5 },
    );
    const id = await queue.send('test.stuck', {}, { retryLimit: 3 });
    await waitFor(() => started);

    const before = Date.now();
    await queue.stop({ timeoutMs: 1_000 });
    const took = Date.now() - before;
    release();

    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5_000);
    expect(await jobRow(id)).toMatchObject({
      state: 'retry',
      output: { value: 'pg-boss shut down while active' },
    });
    // The pool's last connections end a moment after stop() returns; a leak would still time out here.
    await waitFor(async () => (await queueConnections()) === 0, {
      timeoutMs: 5_000,
      what: 'pg-boss connections to close',
    });
  });
});
