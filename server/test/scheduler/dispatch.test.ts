import { beforeAll, describe, expect, it } from 'vitest';
import { PlanCode, PLAN_LIMITS } from '../../src/billing/plans.js';
import { runDispatchPass, type DispatchResult } from '../../src/scheduler/dispatcher.js';
import { ComputeSpawnState } from '../../src/workloads/compute-spawn.entity.js';
import { JobRun } from '../../src/workloads/job-run.entity.js';
import { JobState } from '../../src/workloads/job-state.js';
import type { Job } from '../../src/workloads/job.entity.js';
import { openSchedulerTestbed, type Testbed } from './fixtures.js';

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

function dispatch(batchSize?: number): Promise<DispatchResult> {
  return runDispatchPass(testbed.orm.em, {
    pubSub: testbed.pubSub,
    limits: testbed.limits,
    ...(batchSize && { batchSize }),
  });
}

const ids = (jobs: readonly Job[]) => jobs.map((job) => job.id);

/** The spawn each job's latest run was placed on (undefined: no run). */
async function placements(jobs: readonly Job[]): Promise<(string | undefined)[]> {
  const runs = await testbed.em.find(JobRun, { job: { $in: ids(jobs) } });
  const byJob = new Map(runs.map((run) => [run.job.id, run.spawn?.id]));
  return jobs.map((job) => byJob.get(job.id));
}

describe('admission', () => {
  it('serves enabled queues by ascending priority, FIFO within a queue', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    await testbed.spawn(environment, { slots: 3 });
    const definition = await testbed.definition(project);
    const slow = await testbed.queue(project, [environment], { priority: 500 });
    const urgent = await testbed.queue(project, [environment], { priority: 10 });
    // The slow queue's jobs are older: priority still wins over age.
    const slowJobs = await testbed.jobs(slow, definition, 2);
    const urgentJobs = await testbed.jobs(urgent, definition, 4);

    const result = await dispatch();

    expect(result).toMatchObject({ admitted: 6, placed: 3 });
    expect(await testbed.jobStates(ids(urgentJobs))).toEqual([
      JobState.STARTING,
      JobState.STARTING,
      JobState.STARTING,
      JobState.RUNNABLE,
    ]);
    expect(await testbed.jobStates(ids(slowJobs))).toEqual([JobState.RUNNABLE, JobState.RUNNABLE]);
  });

  it('orders jobs created at the same instant by id', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    await testbed.spawn(environment, { slots: 2 });
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, [environment]);
    const createdAt = new Date();
    const jobs: Job[] = [];
    for (let i = 0; i < 4; i += 1) jobs.push(await testbed.job(queue, definition, { createdAt }));

    await dispatch();

    // uuidv7 ids grow with creation, so the first two created start.
    expect(await testbed.jobStates(ids(jobs))).toEqual([
      JobState.STARTING,
      JobState.STARTING,
      JobState.RUNNABLE,
      JobState.RUNNABLE,
    ]);
  });

  it("keeps a queue's admitted jobs at its maxConcurrency and admits the next one when one finishes", async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    await testbed.spawn(environment, { slots: 10 });
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, [environment], { maxConcurrency: 2 });
    const jobs = await testbed.jobs(queue, definition, 5);

    await dispatch();
    expect(await testbed.jobStates(ids(jobs))).toEqual([
      JobState.STARTING,
      JobState.STARTING,
      JobState.PENDING,
      JobState.PENDING,
      JobState.PENDING,
    ]);
    await dispatch();
    expect(await testbed.jobStates(ids(jobs.slice(2)))).toEqual([
      JobState.PENDING,
      JobState.PENDING,
      JobState.PENDING,
    ]);

    await testbed.sql(`update job set state = 'COMPLETED' where id = ?`, [jobs[0]!.id]);
    await testbed.sql(`update job_run set state = 'COMPLETED' where job_id = ?`, [jobs[0]!.id]);
    await dispatch();
    expect(await testbed.jobStates(ids(jobs.slice(1)))).toEqual([
      JobState.STARTING,
      JobState.STARTING,
      JobState.PENDING,
      JobState.PENDING,
    ]);
  });

  it("holds an organization to its plan's concurrent runs across its queues, by queue priority", async () => {
    const project = await testbed.project(PlanCode.FREE);
    const limit = PLAN_LIMITS[PlanCode.FREE].concurrentRuns;
    const environment = await testbed.environment(project);
    await testbed.spawn(environment, { slots: 50 });
    const definition = await testbed.definition(project);
    const later = await testbed.queue(project, [environment], { priority: 200 });
    const first = await testbed.queue(project, [environment], { priority: 100 });
    const laterJobs = await testbed.jobs(later, definition, 4);
    const firstJobs = await testbed.jobs(first, definition, limit - 2);
    // Another organization's jobs do not count against this one's plan.
    const other = await testbed.project(PlanCode.FREE);
    const otherEnvironment = await testbed.environment(other);
    await testbed.spawn(otherEnvironment, { slots: 50 });
    const otherJobs = await testbed.jobs(
      await testbed.queue(other, [otherEnvironment]),
      await testbed.definition(other),
      3,
    );

    await dispatch();

    expect(await testbed.jobStates(ids(firstJobs))).toEqual(firstJobs.map(() => JobState.STARTING));
    expect(await testbed.jobStates(ids(laterJobs))).toEqual([
      JobState.STARTING,
      JobState.STARTING,
      JobState.PENDING,
      JobState.PENDING,
    ]);
    expect(await testbed.jobStates(ids(otherJobs))).toEqual(otherJobs.map(() => JobState.STARTING));
  });

  it('waits for scheduleAt and for a retry backoff', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    await testbed.spawn(environment);
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, [environment]);
    const future = new Date(Date.now() + 60_000);
    const past = new Date(Date.now() - 1_000);
    const later = await testbed.job(queue, definition, { scheduleAt: future });
    const due = await testbed.job(queue, definition, { scheduleAt: past });
    const backingOff = await testbed.job(queue, definition, { state: JobState.PENDING, retryAt: future });
    const backedOff = await testbed.job(queue, definition, { state: JobState.PENDING, retryAt: past });

    await dispatch();

    expect(await testbed.jobStates([later.id, due.id, backingOff.id, backedOff.id])).toEqual([
      JobState.PENDING,
      JobState.STARTING,
      JobState.PENDING,
      JobState.STARTING,
    ]);
  });

  it('runs nothing from a disabled queue, and sends its RUNNABLE jobs back to PENDING', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    await testbed.spawn(environment);
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, [environment], { enabled: false });
    const submitted = await testbed.job(queue, definition);
    const runnable = await testbed.job(queue, definition, { state: JobState.RUNNABLE });

    await dispatch();
    expect(await testbed.jobStates([submitted.id, runnable.id])).toEqual([
      JobState.PENDING,
      JobState.PENDING,
    ]);

    await testbed.sql('update job_queue set enabled = true where id = ?', [queue.id]);
    await dispatch();
    expect(await testbed.jobStates([submitted.id, runnable.id])).toEqual([
      JobState.STARTING,
      JobState.STARTING,
    ]);
  });

  it('works through a backlog larger than one batch, saying when there is more', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    await testbed.spawn(environment, { slots: 20 });
    const definition = await testbed.definition(project);
    const jobs = await testbed.jobs(await testbed.queue(project, [environment]), definition, 7);

    const first = await dispatch(3);
    expect(first).toMatchObject({ admitted: 3, placed: 3, more: true });
    let passes = 1;
    while ((await dispatch(3)).more) passes += 1;
    expect(passes).toBeLessThanOrEqual(4);
    expect(await testbed.jobStates(ids(jobs))).toEqual(jobs.map(() => JobState.STARTING));
  });
});

describe('placement', () => {
  it("fills the queue's environments in link order", async () => {
    const project = await testbed.project();
    const primary = await testbed.environment(project);
    const overflow = await testbed.environment(project);
    const primarySpawn = await testbed.spawn(primary, { slots: 2 });
    const overflowSpawn = await testbed.spawn(overflow, { slots: 10 });
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, [primary, overflow]);
    const jobs = await testbed.jobs(queue, definition, 4);

    await dispatch();

    expect(await placements(jobs)).toEqual([
      primarySpawn.id,
      primarySpawn.id,
      overflowSpawn.id,
      overflowSpawn.id,
    ]);
  });

  it('places by free slots: slots minus the runs a spawn already holds, most free first', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    const busy = await testbed.spawn(environment, { slots: 3 });
    const roomy = await testbed.spawn(environment, { slots: 3 });
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, [environment]);
    // Two runs already hold slots on `busy`.
    const held = await testbed.jobs(queue, definition, 2);
    for (const job of held) {
      await testbed.sql(`update job set state = 'RUNNING', attempts = 1 where id = ?`, [job.id]);
      await testbed.sql(
        `insert into job_run (id, job_id, attempt, state, spawn_id, spawn_hostname, compute_environment_name, created_at)
         values (gen_random_uuid(), ?, 1, 'RUNNING', ?, ?, ?, now())`,
        [job.id, busy.id, busy.hostname, environment.name],
      );
    }
    const jobs = await testbed.jobs(queue, definition, 5);

    const result = await dispatch();

    expect(result.placed).toBe(4);
    const placed = await placements(jobs);
    expect(placed.filter((spawnId) => spawnId === roomy.id)).toHaveLength(3);
    expect(placed.filter((spawnId) => spawnId === busy.id)).toHaveLength(1);
    expect(placed[4]).toBeUndefined();
    expect(await testbed.jobState(jobs[4]!.id)).toBe(JobState.RUNNABLE);
  });

  it('skips spawns that are not ONLINE or whose lease ran out', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    await testbed.spawn(environment, { state: ComputeSpawnState.OFFLINE });
    await testbed.spawn(environment, { state: ComputeSpawnState.LOST });
    await testbed.spawn(environment, { leaseExpiresAt: new Date(Date.now() - 1_000) });
    const definition = await testbed.definition(project);
    const job = await testbed.job(await testbed.queue(project, [environment]), definition);

    expect((await dispatch()).placed).toBe(0);
    expect(await testbed.jobState(job.id)).toBe(JobState.RUNNABLE);

    const online = await testbed.spawn(environment);
    await dispatch();
    expect(await placements([job])).toEqual([online.id]);
  });

  it('creates attempt 1 in STARTING, counts it on the job and wakes the spawn', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    const spawn = await testbed.spawn(environment);
    const job = await testbed.job(
      await testbed.queue(project, [environment]),
      await testbed.definition(project),
    );
    const wakeups = testbed.recordWakeups();
    const events = testbed.recordJobEvents();

    const result = await dispatch();

    expect(result.spawnIds).toContain(spawn.id);
    expect(wakeups).toContain(spawn.id);
    const run = await testbed.em.findOneOrFail(JobRun, { job: job.id });
    expect(run).toMatchObject({ attempt: 1, state: 'STARTING', leaseToken: null });
    const reloaded = await testbed.sql<{ attempts: number }>('select attempts from job where id = ?', [
      job.id,
    ]);
    expect(reloaded[0]!.attempts).toBe(1);
    expect(events.filter((event) => event.jobId === job.id).map((event) => [event.from, event.to])).toEqual([
      [JobState.SUBMITTED, JobState.RUNNABLE],
      [JobState.RUNNABLE, JobState.STARTING],
    ]);
  });
});
