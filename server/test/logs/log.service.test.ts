import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDaestroPubSub } from '../../src/graphql/pubsub.js';
import type { AgentPrincipal } from '../../src/agents/agent-principal.js';
import type { RunLease } from '../../src/agents/run-lease.js';
import { UserError } from '../../src/graphql/errors.js';
import { LOG_BATCH_LIMITS } from '../../src/logs/log-batch.js';
import { LogService, MAX_LOG_SEARCH, type LogLine } from '../../src/logs/log.service.js';
import type { TailBatch } from '../../src/logs/run-tail.js';
import { RunFeeds } from '../../src/logs/run-feeds.js';
import { LogStream } from '../../src/logs/run-log-chunk.entity.js';
import { MetricService } from '../../src/metrics/metric.service.js';
import { RunLeaseError } from '../../src/scheduler/run-lifecycle.service.js';
import { JobRun } from '../../src/workloads/job-run.entity.js';
import { openSchedulerTestbed, silentLog, type Testbed } from '../scheduler/fixtures.js';
import { asRead, finishRun, heldRun as heldRunOf, logLines, storedLineSeqs } from './fixtures.js';
import { waitFor } from '../support/wait-for.js';

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

// The viewer check is JobService's (tested with the API); here every run is visible.
const visibleRuns = {
  getRun: (_viewer: unknown, runId: string) => testbed.em.findOneOrFail(JobRun, { id: runId }),
};
const newFeeds = (progressPollMs?: number) =>
  new RunFeeds({ pubSub: testbed.pubSub, em: testbed.orm.em, log: silentLog, progressPollMs });
const deps = (feeds = newFeeds()) => ({ runs: visibleRuns, pubSub: testbed.pubSub, feeds });
const logs = (em: EntityManager = testbed.em, feeds?: RunFeeds) => new LogService(em, deps(feeds));
const metrics = (feeds?: RunFeeds) => new MetricService(testbed.em, deps(feeds));
const viewer = { userId: 'reader', email: 'reader@example.test', emailVerified: true };

const heldRun = () => heldRunOf(testbed);
const lines = logLines;
const finish = (lease: RunLease) => finishRun(testbed, lease);

const storedSeqs = (runId: string) => storedLineSeqs(testbed, runId);

async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('appendRunLogs storage', () => {
  it('stores a batch, ignores a resend, and reports the highest seq with no gap before it', async () => {
    const { agent, lease } = await heldRun();
    expect(await logs().append(agent, lease, lines(1, 3))).toEqual({ storedThrough: 3 });
    expect(await logs().append(agent, lease, lines(1, 3))).toEqual({ storedThrough: 3 });
    // 4 and 5 are lost on the way: 6..8 are kept, but the prefix stops at 3.
    expect(await logs().append(agent, lease, lines(6, 8))).toEqual({ storedThrough: 3 });
    // The resend fills the gap (and repeats 6, which is ignored).
    expect(await logs().append(agent, lease, lines(4, 6))).toEqual({ storedThrough: 8 });
    expect(await storedSeqs(lease.runId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await testbed.em.findOneOrFail(JobRun, { id: lease.runId })).logStoredThrough).toBe(8);
  });

  it('stores every line once in non-overlapping chunks, however batches overlap, repeat or skip', async () => {
    const batchOfSeqs = fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 15 });
    await fc.assert(
      fc.asyncProperty(fc.array(batchOfSeqs, { minLength: 1, maxLength: 6 }), async (batches) => {
        const { agent, lease } = await heldRun();
        const sent = new Set<number>();
        let storedThrough = 0;
        for (const seqs of batches) {
          ({ storedThrough } = await logs().append(
            agent,
            lease,
            seqs.map((seq) => lines(seq, seq)[0]!),
          ));
          for (const seq of seqs) sent.add(seq);
        }
        let prefix = 0;
        while (sent.has(prefix + 1)) prefix += 1;
        expect(storedThrough).toBe(prefix);
        expect(await storedSeqs(lease.runId)).toEqual([...sent].sort((a, b) => a - b));
        const chunks = await testbed.sql<{ first_seq: number; last_seq: number; lines: number }>(
          'select first_seq, last_seq, cardinality(texts) as lines from run_log_chunk where run_id = ? order by last_seq',
          [lease.runId],
        );
        for (const [index, chunk] of chunks.entries()) {
          expect(chunk.lines).toBe(chunk.last_seq - chunk.first_seq + 1);
          if (index > 0) expect(chunk.first_seq).toBeGreaterThan(chunks[index - 1]!.last_seq);
        }
        const [run] = await testbed.sql<{ log_bytes: string }>('select log_bytes from job_run where id = ?', [
          lease.runId,
        ]);
        expect(Number(run!.log_bytes)).toBe(
          [...sent].reduce((bytes, seq) => bytes + `line ${seq}`.length, 0),
        );
      }),
      { numRuns: 12 },
    );
  });

  it('writes each batch with one INSERT, whatever its size', async () => {
    const { agent, lease } = await heldRun();
    const knex = testbed.orm.em.getConnection().getKnex() as Knex;
    const inserts: string[] = [];
    const spy = (query: { sql: string }) => {
      if (/insert into run_log_chunk/i.test(query.sql)) inserts.push(query.sql);
    };
    knex.on('query', spy);
    try {
      await logs().append(agent, lease, lines(1, LOG_BATCH_LIMITS.lines));
    } finally {
      knex.off('query', spy);
    }
    expect(inserts).toHaveLength(1);
    expect(await storedSeqs(lease.runId)).toHaveLength(LOG_BATCH_LIMITS.lines);
  });

  it('keeps text exactly, quotes, braces, backslashes and all (NUL, which PostgreSQL cannot hold, becomes U+FFFD)', async () => {
    const { agent, lease } = await heldRun();
    const texts = [
      'a "quoted", {braced} \\ back\\slash',
      '',
      '  spaced  ',
      'tab\there',
      'ünï©ødé 🚀',
      'nul\u0000byte',
      'NULL',
    ];
    await logs().append(
      agent,
      lease,
      texts.map((text, index) => ({
        seq: index + 1,
        stream: LogStream.STDERR,
        timestamp: new Date().toISOString(),
        text,
      })),
    );
    const page = await logs().read(viewer, lease.runId, { first: 100 });
    expect(page.lines.map((line) => line.text)).toEqual(
      texts.map((text) => text.replace('\u0000', '\uFFFD')),
    );
    expect(page.lines.every((line) => line.stream === LogStream.STDERR)).toBe(true);
  });

  it('keeps storedThrough right when batches of one run arrive at once', async () => {
    const { agent, lease } = await heldRun();
    // Concurrent, in order: each waits on the run's row for the one before it, whose commit moves the prefix.
    for (let round = 0; round < 5; round += 1) {
      const from = round * 800 + 1;
      const batches = [0, 100, 200, 300, 400, 500, 600, 700].map((offset) =>
        lines(from + offset, from + offset + 99),
      );
      await Promise.all(batches.map((batch) => logs().append(agent, lease, batch)));
      expect(await logs().append(agent, lease, [])).toEqual({ storedThrough: from + 799 });
    }
  });

  it.each([
    ['too many lines', () => lines(1, LOG_BATCH_LIMITS.lines + 1), /at most 2000 lines/],
    [
      'a line over 16 KiB',
      () => [...lines(1, 2), { ...lines(3, 3)[0]!, text: 'x'.repeat(LOG_BATCH_LIMITS.lineBytes + 1) }],
      /Line 2 \(seq 3\) is 16385 bytes/,
    ],
    [
      'more than 4 MiB in all',
      () => lines(1, 300).map((line) => ({ ...line, text: 'y'.repeat(15_000) })),
      /at most 4194304 bytes/,
    ],
    ['a seq below 1', () => [...lines(1, 2), { ...lines(1, 1)[0]!, seq: 0 }], /seq starts at 1/],
    ['a seq twice', () => [...lines(1, 3), ...lines(2, 2)], /seq 2 appears twice/],
  ])('refuses a batch with %s and stores none of it', async (_what, batch, message) => {
    const { agent, lease } = await heldRun();
    const error = await refusal(logs().append(agent, lease, batch()));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(message);
    expect(await storedSeqs(lease.runId)).toEqual([]);
  });

  it('measures line length in UTF-8 bytes', async () => {
    const { agent, lease } = await heldRun();
    const text = 'é'.repeat(LOG_BATCH_LIMITS.lineBytes / 2);
    await logs().append(agent, lease, [{ ...lines(1, 1)[0]!, text }]);
    const error = await refusal(logs().append(agent, lease, [{ ...lines(2, 2)[0]!, text: `${text}é` }]));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(await storedSeqs(lease.runId)).toEqual([1]);
  });

  it('refuses writes under a lease the agent does not hold, storing nothing', async () => {
    const { agent, lease } = await heldRun();
    const other = await heldRun();
    const attempts: [string, AgentPrincipal, RunLease][] = [
      ['a made-up token', agent, { ...lease, leaseToken: crypto.randomUUID() }],
      ['not a uuid', agent, { ...lease, leaseToken: 'nonsense' }],
      ["another run's token", agent, { runId: lease.runId, leaseToken: other.lease.leaseToken }],
      ['another agent', other.agent, lease],
    ];
    for (const [what, caller, presented] of attempts) {
      const error = await refusal(logs().append(caller, presented, lines(1, 2)));
      expect(error, what).toBeInstanceOf(RunLeaseError);
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', reason: 'STALE_LEASE' });
    }
    expect(await storedSeqs(lease.runId)).toEqual([]);

    await finish(lease);
    expect(await refusal(logs().append(agent, lease, lines(1, 1)))).toBeInstanceOf(RunLeaseError);
    expect(await storedSeqs(lease.runId)).toEqual([]);
  });
});

describe('reading a run’s log', () => {
  it('pages by seq, filters by stream, and hides lines past a gap until the run ends', async () => {
    const { agent, lease } = await heldRun();
    await logs().append(agent, lease, [...lines(1, 4), ...lines(5, 6, LogStream.STDERR), ...lines(8, 9)]);

    const first = await logs().read(viewer, lease.runId, { first: 4 });
    expect(first.lines.map((line) => line.seq)).toEqual([1, 2, 3, 4]);
    expect(first).toMatchObject({ cursor: 4, hasMore: true });
    expect(first.lines[0]).toEqual({
      seq: 1,
      stream: LogStream.STDOUT,
      timestamp: new Date(Date.UTC(2026, 10, 27, 12, 0, 0, 1)),
      text: 'line 1',
    });
    // 7 is missing: 8 and 9 wait, so a reader following the cursor cannot skip 7.
    const second = await logs().read(viewer, lease.runId, { after: first.cursor, first: 4 });
    expect(second.lines.map((line) => line.seq)).toEqual([5, 6]);
    expect(second).toMatchObject({ cursor: 6, hasMore: false });
    const stderr = await logs().read(viewer, lease.runId, { first: 10, stream: LogStream.STDERR });
    expect(stderr.lines.map((line) => line.seq)).toEqual([5, 6]);
    expect(await logs().read(viewer, lease.runId, { after: 6, first: 10 })).toEqual({
      lines: [],
      cursor: 6,
      hasMore: false,
    });

    await finish(lease);
    const finished = await logs().read(viewer, lease.runId, { after: 6, first: 10 });
    expect(finished.lines.map((line) => line.seq)).toEqual([8, 9]);
  });

  it('refuses page sizes and cursors out of range', async () => {
    const { lease } = await heldRun();
    for (const page of [{ first: 0 }, { first: 5001 }, { first: 10, after: -1 }]) {
      expect((await refusal(logs().read(viewer, lease.runId, page))).code).toBe('BAD_USER_INPUT');
    }
  });
});

/** Reads a stream in the background: every batch, and the seqs in the order they came. */
function collect(stream: AsyncIterable<TailBatch<LogLine>>) {
  const batches: TailBatch<LogLine>[] = [];
  const done = (async () => {
    for await (const batch of stream) batches.push(batch);
  })();
  return { batches, done, seqs: () => batches.flatMap((batch) => batch.items.map((line) => line.seq)) };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('searching a run’s log', () => {
  it('finds lines containing the text, ignoring case, page by page, within what is visible', async () => {
    const { agent, lease } = await heldRun();
    const texts = ['Starting', 'ERROR: disk full', 'retrying', 'error again', 'done', 'an Error'];
    await logs().append(
      agent,
      lease,
      texts.map((text, index) => ({
        seq: index + 1,
        stream: LogStream.STDOUT,
        timestamp: new Date().toISOString(),
        text,
      })),
    );
    // Past a gap: not visible while the run goes on.
    await logs().append(agent, lease, [
      { seq: 8, stream: LogStream.STDOUT, timestamp: new Date().toISOString(), text: 'error 8' },
    ]);

    const first = await logs().read(viewer, lease.runId, { first: 2, search: 'eRRor' });
    expect(first.lines.map((line) => line.seq)).toEqual([2, 4]);
    expect(first).toMatchObject({ cursor: 4, hasMore: true });
    const second = await logs().read(viewer, lease.runId, { first: 2, search: 'error', after: first.cursor });
    expect(second.lines.map((line) => line.text)).toEqual(['an Error']);
    expect(second.hasMore).toBe(false);
    // LIKE's wildcards are plain text here.
    expect((await logs().read(viewer, lease.runId, { first: 10, search: '%' })).lines).toEqual([]);
    await finish(lease);
    const finished = await logs().read(viewer, lease.runId, { first: 10, search: 'error', after: 4 });
    expect(finished.lines.map((line) => line.seq)).toEqual([6, 8]);
    const long = 'x'.repeat(MAX_LOG_SEARCH + 1);
    expect((await refusal(logs().read(viewer, lease.runId, { first: 1, search: long }))).code).toBe(
      'BAD_USER_INPUT',
    );
  });
});

describe('live log streams', () => {
  it('delivers lines written at the switch point once, then tails, then completes when the run finishes', async () => {
    const { agent, lease } = await heldRun();
    await logs().append(agent, lease, lines(1, 3));
    // The replay's read waits until lines 4..6 are committed and published: by then the stream is
    // subscribed, so they are both in its live buffer and in what the replay reads.
    const em = testbed.em;
    const execute = em.execute.bind(em) as (...args: unknown[]) => Promise<unknown>;
    let held = false;
    em.execute = (async (...args: unknown[]) => {
      if (!held && String(args[0]).includes('left join lateral')) {
        held = true;
        await logs().append(agent, lease, lines(4, 6));
      }
      return execute(...args);
    }) as EntityManager['execute'];
    // Only the run's job event ends the stream here: the poll never fires within the test.
    const feeds = newFeeds(60_000);
    const stream = collect(await logs(em, feeds).stream(viewer, lease.runId));
    await waitFor(() => stream.seqs().length >= 6, { what: 'the replay' });
    await logs().append(agent, lease, lines(7, 9));
    await waitFor(() => stream.seqs().length >= 9, { what: 'the live lines' });
    await finish(lease);
    await stream.done;
    expect(held).toBe(true);
    expect(stream.seqs()).toEqual(range(1, 9));
    expect(stream.batches.at(-1)).toMatchObject({ complete: true, cursor: 9 });
    expect(feeds.followedRuns).toBe(0);
  });

  it('streams a held log of 100,000 lines to a new subscriber, in order and completely', async () => {
    const { agent, lease } = await heldRun();
    for (let from = 1; from <= 100_000; from += LOG_BATCH_LIMITS.lines) {
      await logs().append(agent, lease, lines(from, from + LOG_BATCH_LIMITS.lines - 1));
    }
    const stream = collect(await logs().stream(viewer, lease.runId, 0));
    await waitFor(() => stream.seqs().length >= 100_000, { what: 'the whole log', timeoutMs: 60_000 });
    await finish(lease);
    await stream.done;
    const seqs = stream.seqs();
    expect(seqs).toHaveLength(100_000);
    expect(seqs.every((seq, index) => seq === index + 1)).toBe(true);
    expect(stream.batches.at(-1)!.complete).toBe(true);
  });

  it('catches up from storage when the bus lost the live events', async () => {
    const { agent, lease } = await heldRun();
    const feeds = newFeeds(50);
    const stream = collect(await logs(testbed.em, feeds).stream(viewer, lease.runId));
    // This writer publishes where nobody listens: only storage and the run's storedThrough tell.
    const deaf = new LogService(testbed.em, { runs: visibleRuns, pubSub: createDaestroPubSub(), feeds });
    await deaf.append(agent, lease, lines(1, 5));
    await waitFor(() => stream.seqs().length >= 5, { what: 'the lines from storage' });
    await finish(lease);
    await stream.done;
    expect(stream.seqs()).toEqual(range(1, 5));
  });

  it('resumes after a cursor and completes at once on a finished run', async () => {
    const { agent, lease } = await heldRun();
    await logs().append(agent, lease, lines(1, 10));
    await finish(lease);
    const stream = collect(await logs().stream(viewer, lease.runId, 7));
    await stream.done;
    expect(stream.batches).toEqual([{ items: asRead(lines(8, 10)), cursor: 10, complete: true }]);
  });

  it('lets go of the run when the subscriber leaves while nothing happens', async () => {
    const { lease } = await heldRun();
    const feeds = newFeeds();
    const iterator = (await logs(testbed.em, feeds).stream(viewer, lease.runId))[Symbol.asyncIterator]();
    const pending = iterator.next();
    await waitFor(() => feeds.followedRuns === 1, { what: 'the feed' });
    await iterator.return!();
    expect(await pending).toMatchObject({ done: true });
    expect(feeds.followedRuns).toBe(0);
  });

  it('refuses a cursor below 0', async () => {
    const { lease } = await heldRun();
    expect((await refusal(logs().stream(viewer, lease.runId, -1))).code).toBe('BAD_USER_INPUT');
  });
});

describe('run metrics', () => {
  it('stores samples idempotently on (run, timestamp) and reads them by time range', async () => {
    const { agent, lease } = await heldRun();
    const at = (second: number) => new Date(Date.UTC(2026, 10, 27, 12, 0, second));
    const samples = [0, 5, 10].map((second) => ({
      timestamp: at(second),
      cpuPercent: 12.5 + second,
      memoryBytes: 5_000_000_000 + second,
      memoryLimitBytes: 8 * 1024 ** 3,
    }));
    await metrics().append(agent, lease, samples);
    await metrics().append(agent, lease, samples.slice(1));
    expect(await metrics().read(viewer, lease.runId, { first: 100 })).toEqual(samples);
    expect(await metrics().read(viewer, lease.runId, { from: at(5), to: at(10), first: 100 })).toEqual([
      samples[1],
    ]);
    expect(await metrics().read(viewer, lease.runId, { first: 2 })).toEqual(samples.slice(0, 2));
  });

  it('streams stored samples, then live ones in time order, and completes when the run finishes', async () => {
    const { agent, lease } = await heldRun();
    const sample = (second: number) => ({
      timestamp: new Date(Date.UTC(2026, 10, 27, 12, 0, second)),
      cpuPercent: second,
      memoryBytes: 1000 + second,
      memoryLimitBytes: 0,
    });
    await metrics().append(agent, lease, [sample(0), sample(5)]);
    const batches: TailBatch<{ timestamp: Date; cpuPercent: number }>[] = [];
    const done = (async () => {
      for await (const batch of await metrics(newFeeds(60_000)).stream(viewer, lease.runId))
        batches.push(batch);
    })();
    const seconds = () => batches.flatMap((batch) => batch.items.map((item) => item.cpuPercent));
    await waitFor(() => seconds().length === 2, { what: 'the replay' });
    await metrics().append(agent, lease, [sample(15), sample(10)]);
    // A repeat of a delivered sample is not sent again.
    await metrics().append(agent, lease, [sample(5)]);
    await waitFor(() => seconds().length === 4, { what: 'the live samples' });
    await finish(lease);
    await done;
    expect(seconds()).toEqual([0, 5, 10, 15]);
    expect(batches.at(-1)).toMatchObject({ complete: true });
  });

  it('refuses bad samples and foreign leases, storing nothing', async () => {
    const { agent, lease } = await heldRun();
    const sample = { timestamp: new Date(), cpuPercent: 1, memoryBytes: 1, memoryLimitBytes: 0 };
    expect((await refusal(metrics().append(agent, lease, [{ ...sample, cpuPercent: -1 }]))).code).toBe(
      'BAD_USER_INPUT',
    );
    expect(
      (await refusal(metrics().append(agent, lease, [{ ...sample, memoryBytes: Number.NaN }]))).code,
    ).toBe('BAD_USER_INPUT');
    expect(
      await refusal(metrics().append(agent, { ...lease, leaseToken: crypto.randomUUID() }, [sample])),
    ).toBeInstanceOf(RunLeaseError);
    expect(await metrics().read(viewer, lease.runId, { first: 10 })).toEqual([]);
  });
});
