import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlanCode, PLAN_LIMITS } from '../../src/billing/plans.js';
import { runDispatchPass } from '../../src/scheduler/dispatcher.js';
import { explainWaiting, WaitingReasonCode } from '../../src/scheduler/waiting-reason.js';
import { ComputeSpawnState } from '../../src/workloads/compute-spawn.entity.js';
import { JobState } from '../../src/workloads/job-state.js';
import { Job } from '../../src/workloads/job.entity.js';
import { openSchedulerTestbed, type Testbed } from './fixtures.js';

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

const dispatch = () => runDispatchPass(testbed.orm.em, { pubSub: testbed.pubSub, limits: testbed.limits });

async function reasonFor(jobId: string) {
  const em = testbed.em;
  return explainWaiting(em, await em.findOneOrFail(Job, { id: jobId }));
}

/** A project with an environment, a spawn of `slots` slots and an enabled queue. */
async function setUp(options: { slots?: number; maxConcurrency?: number; plan?: PlanCode } = {}) {
  const project = await testbed.project(options.plan);
  const environment = await testbed.environment(project);
  const spawn = await testbed.spawn(environment, { slots: options.slots ?? 4 });
  const definition = await testbed.definition(project);
  const queue = await testbed.queue(project, [environment], { maxConcurrency: options.maxConcurrency ?? 0 });
  return { project, environment, spawn, definition, queue };
}

describe('explainWaiting', () => {
  it('SCHEDULED_FOR_LATER until scheduleAt', async () => {
    const { queue, definition } = await setUp();
    const scheduleAt = new Date(Date.now() + 3_600_000);
    const job = await testbed.job(queue, definition, { scheduleAt });
    await dispatch();

    expect(await reasonFor(job.id)).toMatchObject({
      code: WaitingReasonCode.SCHEDULED_FOR_LATER,
      until: scheduleAt,
      message: `Scheduled to start at ${scheduleAt.toISOString()}.`,
    });
  });

  it('RETRY_BACKOFF until retryAt', async () => {
    const { queue, definition } = await setUp();
    const retryAt = new Date(Date.now() + 60_000);
    const job = await testbed.job(queue, definition, { state: JobState.PENDING, retryAt });

    const reason = await reasonFor(job.id);
    expect(reason).toMatchObject({ code: WaitingReasonCode.RETRY_BACKOFF, until: retryAt });
    expect(reason!.message).toContain(retryAt.toISOString());
  });

  it('QUEUE_DISABLED, for waiting and for runnable jobs', async () => {
    const { queue, definition } = await setUp();
    const pending = await testbed.job(queue, definition, { state: JobState.PENDING });
    const runnable = await testbed.job(queue, definition, { state: JobState.RUNNABLE });
    await testbed.sql('update job_queue set enabled = false where id = ?', [queue.id]);

    for (const job of [pending, runnable]) {
      expect(await reasonFor(job.id)).toMatchObject({
        code: WaitingReasonCode.QUEUE_DISABLED,
        message: `Queue ${queue.name} is disabled: enable it to run its jobs.`,
      });
    }
  });

  it('QUEUE_AT_MAX_CONCURRENCY', async () => {
    const { queue, definition } = await setUp({ maxConcurrency: 1 });
    const [, second] = await testbed.jobs(queue, definition, 2);
    await dispatch();

    const reason = await reasonFor(second!.id);
    expect(reason?.code).toBe(WaitingReasonCode.QUEUE_AT_MAX_CONCURRENCY);
    expect(reason?.message).toContain('at most 1 jobs at once');
  });

  it('PLAN_CONCURRENCY_LIMIT', async () => {
    const limit = PLAN_LIMITS[PlanCode.FREE].concurrentRuns;
    const { queue, definition } = await setUp({ plan: PlanCode.FREE, slots: limit + 5 });
    const jobs = await testbed.jobs(queue, definition, limit + 1);
    await dispatch();

    const reason = await reasonFor(jobs.at(-1)!.id);
    expect(reason?.code).toBe(WaitingReasonCode.PLAN_CONCURRENCY_LIMIT);
    expect(reason?.message).toContain(`The FREE plan allows ${limit} concurrent runs`);
    expect(await reasonFor(jobs[0]!.id)).toBeNull();
  });

  it('NO_COMPUTE_ENVIRONMENT_LINKED', async () => {
    const project = await testbed.project();
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, []);
    const job = await testbed.job(queue, definition);
    await dispatch();

    expect(await testbed.jobState(job.id)).toBe(JobState.RUNNABLE);
    expect((await reasonFor(job.id))?.code).toBe(WaitingReasonCode.NO_COMPUTE_ENVIRONMENT_LINKED);
  });

  it('NO_AGENT_ONLINE, naming the environments', async () => {
    const { queue, definition, spawn, environment } = await setUp();
    await testbed.sql('update compute_spawn set state = ? where id = ?', [
      ComputeSpawnState.OFFLINE,
      spawn.id,
    ]);
    const job = await testbed.job(queue, definition);
    await dispatch();

    const reason = await reasonFor(job.id);
    expect(reason?.code).toBe(WaitingReasonCode.NO_AGENT_ONLINE);
    expect(reason?.message).toContain(environment.name);
  });

  it('NO_FREE_SLOT', async () => {
    const { queue, definition } = await setUp({ slots: 1 });
    const [first, second] = await testbed.jobs(queue, definition, 2);
    await dispatch();

    expect(await testbed.jobStates([first!.id, second!.id])).toEqual([JobState.STARTING, JobState.RUNNABLE]);
    expect((await reasonFor(second!.id))?.code).toBe(WaitingReasonCode.NO_FREE_SLOT);
  });

  it('null for a job that is not waiting', async () => {
    const { queue, definition } = await setUp();
    for (const state of [JobState.STARTING, JobState.RUNNING, JobState.COMPLETED, JobState.CANCELLED]) {
      const job = await testbed.job(queue, definition, { state });
      expect(await reasonFor(job.id)).toBeNull();
    }
  });
});
