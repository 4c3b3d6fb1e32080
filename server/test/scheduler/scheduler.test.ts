import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { notifyScheduler } from '../../src/scheduler/notify.js';
import { Scheduler, type SchedulerConfig } from '../../src/scheduler/scheduler.js';
import { JobRun } from '../../src/workloads/job-run.entity.js';
import { FailureClass, JobRunState, JobState } from '../../src/workloads/job-state.js';
import { waitFor } from '../support/wait-for.js';
import { openSchedulerTestbed, retryPolicy, silentLog, type Testbed } from './fixtures.js';

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

const started: Scheduler[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((scheduler) => scheduler.stop()));
});

function startScheduler(config: Partial<SchedulerConfig> = {}): Scheduler {
  const scheduler = new Scheduler(
    {
      orm: testbed.orm,
      databaseUrl: testbed.url,
      pubSub: testbed.pubSub,
      log: silentLog,
      secretsFor: testbed.secretsFor,
    },
    { sweepMs: 100, leaderRetryMs: 100, timeoutGraceSeconds: 30, ...config },
  );
  scheduler.start();
  started.push(scheduler);
  return scheduler;
}

/** The backend holding the leader lock, as PostgreSQL sees it. */
async function leaderBackendPid(): Promise<number | undefined> {
  const [row] = await testbed.sql<{ pid: number }>(
    `select pid from pg_locks where locktype = 'advisory' and objid = ?::oid and granted`,
    [0x73636864],
  );
  return row?.pid;
}

async function killLeaderConnection(): Promise<void> {
  const pid = await leaderBackendPid();
  expect(pid).toBeDefined();
  await testbed.sql('select pg_terminate_backend(?)', [pid]);
}

/** A project whose queue runs on one idle spawn. */
async function runnableSetup() {
  const project = await testbed.project();
  const environment = await testbed.environment(project);
  const spawn = await testbed.spawn(environment, { slots: 8 });
  const queue = await testbed.queue(project, [environment]);
  return { project, spawn, queue };
}

describe('leader election', () => {
  it('has one leader among several processes', async () => {
    const schedulers = [startScheduler(), startScheduler(), startScheduler()];
    await waitFor(() => schedulers.some((scheduler) => scheduler.isLeader), { what: 'a leader' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(schedulers.filter((scheduler) => scheduler.isLeader)).toHaveLength(1);
  });

  it('a leader whose connection is killed stops leading at once, and leadership comes back', async () => {
    const schedulers = [startScheduler(), startScheduler()];
    await waitFor(() => schedulers.some((scheduler) => scheduler.isLeader), { what: 'a leader' });
    const leader = schedulers.find((scheduler) => scheduler.isLeader)!;

    await killLeaderConnection();
    await waitFor(() => !leader.isLeader, {
      timeoutMs: 1_000,
      intervalMs: 10,
      what: 'the leader to step down',
    });
    await waitFor(() => schedulers.some((scheduler) => scheduler.isLeader), {
      timeoutMs: 3_000,
      what: 'a new leader',
    });
    expect(schedulers.filter((scheduler) => scheduler.isLeader)).toHaveLength(1);
  });

  it('the standby takes over within seconds when the leader dies, and dispatches', async () => {
    const first = startScheduler({ leaderRetryMs: 1_000 });
    await waitFor(() => first.isLeader, { what: 'the first leader' });
    const standby = startScheduler({ leaderRetryMs: 1_000 });
    const { project, queue } = await runnableSetup();
    const definition = await testbed.definition(project);

    // The leader's process dies: its connection drops and it never comes back.
    const died = Date.now();
    await killLeaderConnection();
    await first.stop();
    await waitFor(() => standby.isLeader, { timeoutMs: 5_000, intervalMs: 20, what: 'the standby to lead' });
    const takeoverMs = Date.now() - died;
    console.info(`standby took over in ${takeoverMs} ms (leader retry 1000 ms)`);
    expect(takeoverMs).toBeLessThan(3_000);

    const job = await testbed.job(queue, definition);
    await waitFor(async () => (await testbed.jobState(job.id)) === JobState.STARTING, {
      what: 'the new leader to dispatch',
    });
  });
});

describe('wake-ups', () => {
  it('a notification committed with a submit dispatches it without waiting for the sweep', async () => {
    const scheduler = startScheduler({ sweepMs: 60_000 });
    await waitFor(() => scheduler.isLeader, { what: 'the leader' });
    await scheduler.idle();
    const { project, queue } = await runnableSetup();
    const definition = await testbed.definition(project);

    // Without a notification nothing happens before the (minute-long) sweep.
    const quiet = await testbed.job(queue, definition);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await testbed.jobState(quiet.id)).toBe(JobState.SUBMITTED);

    const submitted = Date.now();
    await testbed.em.transactional((em) => notifyScheduler(em, 'job.submitted'));
    await waitFor(async () => (await testbed.jobState(quiet.id)) === JobState.STARTING, {
      timeoutMs: 2_000,
      intervalMs: 5,
      what: 'the notified dispatch',
    });
    expect(Date.now() - submitted).toBeLessThan(1_000);
  });

  it('retries a failed attempt when its backoff ends', async () => {
    startScheduler({ sweepMs: 50 });
    const { project, queue, spawn } = await runnableSetup();
    const definition = await testbed.definition(project, {
      retryPolicy: retryPolicy({ attempts: 2, baseSeconds: 1, retryOn: [FailureClass.APP_FAILURE] }),
    });
    const job = await testbed.job(queue, definition);
    await waitFor(async () => (await testbed.jobState(job.id)) === JobState.STARTING, {
      what: 'the first attempt',
    });
    const lifecycle = testbed.lifecycle();
    const [claimed] = await lifecycle.claimRuns(spawn.id, 1);
    await lifecycle.markRunning(claimed!.runId, claimed!.leaseToken);

    const failedAt = Date.now();
    await lifecycle.finishRun(claimed!.runId, claimed!.leaseToken, {
      outcome: JobRunState.FAILED,
      exitCode: 3,
    });
    await waitFor(async () => (await testbed.em.count(JobRun, { job: job.id })) === 2, {
      intervalMs: 10,
      what: 'the second attempt',
    });
    const retriedAfterMs = Date.now() - failedAt;
    expect(retriedAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(retriedAfterMs).toBeLessThan(2_000);
  });
});
