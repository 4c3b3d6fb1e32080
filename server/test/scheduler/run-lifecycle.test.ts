import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDispatchPass } from '../../src/scheduler/dispatcher.js';
import { SchedulerMaintenance } from '../../src/scheduler/maintenance.js';
import { SCHEDULER_CHANNEL } from '../../src/scheduler/notify.js';
import {
  RunLeaseError,
  SpawnRetiredError,
  type ClaimedRun,
} from '../../src/scheduler/run-lifecycle.service.js';
import { ComputeSpawnState } from '../../src/workloads/compute-spawn.entity.js';
import { BackoffKind, JobDefinitionType } from '../../src/workloads/job-definition.entity.js';
import { JobRun } from '../../src/workloads/job-run.entity.js';
import { FailureClass, JobRunState, JobState } from '../../src/workloads/job-state.js';
import { JobTransitions } from '../../src/workloads/job-transitions.js';
import { Job } from '../../src/workloads/job.entity.js';
import { waitFor } from '../support/wait-for.js';
import { openSchedulerTestbed, retryPolicy, type Testbed } from './fixtures.js';

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

const dispatch = () => runDispatchPass(testbed.orm.em, { pubSub: testbed.pubSub, limits: testbed.limits });
const maintenance = (timeoutGraceSeconds = 0) =>
  new SchedulerMaintenance(testbed.orm.em, testbed.pubSub, { timeoutGraceSeconds });

type DefinitionFields = Parameters<Testbed['definition']>[1];

/** A job placed on a fresh spawn (its run STARTING, unclaimed). */
async function placedJob(fields: DefinitionFields = {}, jobFields: Parameters<Testbed['job']>[2] = {}) {
  const project = await testbed.project();
  const environment = await testbed.environment(project);
  const spawn = await testbed.spawn(environment);
  const definition = await testbed.definition(project, fields);
  const queue = await testbed.queue(project, [environment]);
  const job = await testbed.job(queue, definition, jobFields);
  await dispatch();
  expect(await testbed.jobState(job.id)).toBe(JobState.STARTING);
  return { project, environment, spawn, definition, queue, job };
}

/** A job whose run an agent claimed and started. */
async function runningJob(fields: DefinitionFields = {}) {
  const placed = await placedJob(fields);
  const lifecycle = testbed.lifecycle();
  const [claimed] = await lifecycle.claimRuns(placed.spawn.id, 10);
  await lifecycle.markRunning(claimed!.runId, claimed!.leaseToken);
  return { ...placed, claimed: claimed!, lifecycle };
}

async function runOf(runId: string): Promise<JobRun> {
  return testbed.em.findOneOrFail(JobRun, { id: runId });
}

async function jobOf(jobId: string): Promise<Job> {
  return testbed.em.findOneOrFail(Job, { id: jobId });
}

describe('claimRuns', () => {
  it('hands out a placed run once, with everything the agent needs', async () => {
    const { spawn, job, definition, queue, environment } = await placedJob(
      {
        command: ['echo', 'Param::greeting', 'Param::who'],
        parameters: { greeting: 'hello', who: 'world' },
        env: [
          { name: 'MODE', value: 'from-definition' },
          { name: 'API_TOKEN', value: 'tok_0123456789abcdef', sensitive: true },
        ],
        timeoutSeconds: 30,
      },
      { overrides: { parameters: { who: 'daestro' } }, env: [{ name: 'MODE', value: 'from-job' }] },
    );
    await testbed.sql('update compute_spawn set public_ipv4 = ? where id = ?', ['203.0.113.7', spawn.id]);
    const lifecycle = testbed.lifecycle();

    const [claimed, ...others] = await lifecycle.claimRuns(spawn.id, 5);

    expect(others).toEqual([]);
    const run = await testbed.em.findOneOrFail(JobRun, { job: job.id });
    expect(claimed).toMatchObject({
      runId: run.id,
      attempt: 1,
      jobId: job.id,
      jobName: job.name,
      queueName: queue.name,
      computeEnvironmentName: environment.name,
      definitionId: definition.id,
      type: JobDefinitionType.BASH,
      script: 'true',
      image: null,
      registryAuthId: null,
      command: ['echo', 'hello', 'daestro'],
      cpu: 0.5,
      memoryMiB: 256,
      timeoutSeconds: 30,
      privileged: false,
    } satisfies Partial<ClaimedRun>);
    expect(claimed!.leaseToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.leaseToken).toBe(claimed!.leaseToken);
    expect(Object.fromEntries(claimed!.env.map((variable) => [variable.name, variable]))).toEqual({
      MODE: { name: 'MODE', value: 'from-job', sensitive: false },
      API_TOKEN: { name: 'API_TOKEN', value: 'tok_0123456789abcdef', sensitive: true },
      DAESTRO_JOB_ID: { name: 'DAESTRO_JOB_ID', value: job.id, sensitive: false },
      DAESTRO_JOB_RUN_ID: { name: 'DAESTRO_JOB_RUN_ID', value: run.id, sensitive: false },
      DAESTRO_JOB_QUEUE_NAME: { name: 'DAESTRO_JOB_QUEUE_NAME', value: queue.name, sensitive: false },
      DAESTRO_COMPUTE_SPAWN_ID: { name: 'DAESTRO_COMPUTE_SPAWN_ID', value: spawn.id, sensitive: false },
      DAESTRO_COMPUTE_ENV_NAME: {
        name: 'DAESTRO_COMPUTE_ENV_NAME',
        value: environment.name,
        sensitive: false,
      },
      DAESTRO_PUBLIC_IPV4: { name: 'DAESTRO_PUBLIC_IPV4', value: '203.0.113.7', sensitive: false },
    });

    expect(await lifecycle.claimRuns(spawn.id, 5)).toEqual([]);
  });

  it('ends a run whose environment cannot be opened as ERROR, saying why, and hands out the others', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    const spawn = await testbed.spawn(environment);
    const queue = await testbed.queue(project, [environment]);
    const definition = await testbed.definition(project);
    const shredded = await testbed.job(queue, definition, { env: [{ name: 'TOKEN', value: 'gone-soon' }] });
    const healthy = await testbed.job(queue, definition, { env: [{ name: 'TOKEN', value: 'still-here' }] });
    // Deleting a secret destroys its data key (crypto-shredding): nothing can open it again.
    await testbed.secretsFor(testbed.em).destroy(shredded.overrides.env[0]!.value);
    await dispatch();

    const claimed = await testbed.lifecycle().claimRuns(spawn.id, 5);

    expect(claimed.map((run) => run.jobId)).toEqual([healthy.id]);
    expect(claimed[0]!.env.find((variable) => variable.name === 'TOKEN')?.value).toBe('still-here');
    const run = await testbed.em.findOneOrFail(JobRun, { job: shredded.id });
    expect(run).toMatchObject({ state: JobRunState.ERROR, failureClass: FailureClass.INFRA_FAILURE });
    expect(run.systemNote).toMatch(/^its environment variables could not be decrypted/);
    expect((await jobOf(shredded.id)).state).toBe(JobState.ERROR);
  });

  it('gives concurrent claims disjoint runs', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project, 12);
    const spawn = await testbed.spawn(environment);
    const queue = await testbed.queue(project, [environment]);
    await testbed.jobs(queue, await testbed.definition(project), 12);
    await dispatch();

    const claims = await Promise.all([1, 2, 3, 4].map(() => testbed.lifecycle().claimRuns(spawn.id, 5)));

    const runIds = claims.flat().map((run) => run.runId);
    expect(runIds).toHaveLength(12);
    expect(new Set(runIds).size).toBe(12);
  });

  it('does not hand out the run of a job cancelled before the claim; the sweep cancels it', async () => {
    const { spawn, job } = await placedJob();
    const em = testbed.em;
    const transitions = new JobTransitions(em, testbed.pubSub);
    await transitions.move(job.id, JobState.STARTING, JobState.CANCELLING, {
      systemNote: 'Cancelled by a test',
    });

    expect(await testbed.lifecycle().claimRuns(spawn.id, 5)).toEqual([]);
    expect(await maintenance().cancelUnclaimedRuns()).toBeGreaterThanOrEqual(1);

    const run = await testbed.em.findOneOrFail(JobRun, { job: job.id });
    expect(run.state).toBe(JobRunState.CANCELLED);
    expect((await jobOf(job.id)).state).toBe(JobState.CANCELLED);
  });
});

describe('markRunning and finishRun', () => {
  it('runs the job, starts the timeout clock and completes it', async () => {
    const { job, claimed, lifecycle } = await runningJob({ timeoutSeconds: 30 });

    const running = await jobOf(job.id);
    expect(running.state).toBe(JobState.RUNNING);
    const run = await runOf(claimed.runId);
    expect(run.state).toBe(JobRunState.RUNNING);
    expect(run.deadlineAt!.getTime() - run.startedAt!.getTime()).toBe(30_000);
    expect(running.startedAt).toEqual(run.startedAt);

    expect(
      await lifecycle.finishRun(claimed.runId, claimed.leaseToken, {
        outcome: JobRunState.COMPLETED,
        exitCode: 0,
      }),
    ).toBe(JobState.COMPLETED);
    expect(await runOf(claimed.runId)).toMatchObject({ state: JobRunState.COMPLETED, exitCode: 0 });
    expect((await jobOf(job.id)).finishedAt).toBeInstanceOf(Date);
  });

  it('refuses writes with a stale or foreign lease token', async () => {
    const first = await runningJob();
    const second = await runningJob();
    const { lifecycle } = first;

    await expect(
      lifecycle.finishRun(first.claimed.runId, second.claimed.leaseToken, { outcome: JobRunState.COMPLETED }),
    ).rejects.toBeInstanceOf(RunLeaseError);
    // Sent again (its answer lost to a reconnect), markRunning answers the same while the run is held…
    expect(await lifecycle.markRunning(first.claimed.runId, first.claimed.leaseToken)).toMatchObject({
      cancelRequested: false,
    });
    // …and refuses a lease that is not the run's.
    await expect(
      lifecycle.markRunning(first.claimed.runId, second.claimed.leaseToken),
    ).rejects.toBeInstanceOf(RunLeaseError);
    await expect(
      lifecycle.finishRun(first.claimed.runId, 'not-a-token', { outcome: JobRunState.COMPLETED }),
    ).rejects.toMatchObject({ code: 'CONFLICT', extensions: { reason: 'STALE_LEASE' } });

    await lifecycle.finishRun(first.claimed.runId, first.claimed.leaseToken, {
      outcome: JobRunState.COMPLETED,
    });
    // Finished: the token is stale now.
    await expect(
      lifecycle.finishRun(first.claimed.runId, first.claimed.leaseToken, {
        outcome: JobRunState.FAILED,
        exitCode: 1,
      }),
    ).rejects.toBeInstanceOf(RunLeaseError);
    await expect(lifecycle.markRunning(first.claimed.runId, first.claimed.leaseToken)).rejects.toBeInstanceOf(
      RunLeaseError,
    );
    expect((await jobOf(first.job.id)).state).toBe(JobState.COMPLETED);
  });

  it('finishes a cancelling job as CANCELLED whatever the run says', async () => {
    const { job, claimed, lifecycle, spawn } = await runningJob();
    await new JobTransitions(testbed.em, testbed.pubSub).move(job.id, JobState.RUNNING, JobState.CANCELLING);
    expect((await lifecycle.heartbeat(spawn.id, { slotsUsed: 1 })).cancelRunIds).toEqual([claimed.runId]);

    expect(
      await lifecycle.finishRun(claimed.runId, claimed.leaseToken, { outcome: JobRunState.CANCELLED }),
    ).toBe(JobState.CANCELLED);
  });

  it('ends a job as ERROR when its agent cancels a run nobody cancelled', async () => {
    const { job, claimed, lifecycle } = await runningJob();
    await lifecycle.finishRun(claimed.runId, claimed.leaseToken, { outcome: JobRunState.CANCELLED });
    const settled = await jobOf(job.id);
    expect(settled.state).toBe(JobState.ERROR);
    expect((await runOf(claimed.runId)).failureClass).toBe(FailureClass.INFRA_FAILURE);
  });
});

describe('retries', () => {
  /** Fails the job's current attempt: claim, run, finish with `result`. */
  async function failAttempt(
    spawnId: string,
    result: Parameters<ReturnType<Testbed['lifecycle']>['finishRun']>[2],
    random?: () => number,
  ) {
    const lifecycle = testbed.lifecycle(random ? { random } : {});
    const [claimed] = await lifecycle.claimRuns(spawnId, 1);
    await lifecycle.markRunning(claimed!.runId, claimed!.leaseToken);
    const before = Date.now();
    const state = await lifecycle.finishRun(claimed!.runId, claimed!.leaseToken, result);
    return { state, before, after: Date.now(), claimed: claimed! };
  }

  /** Ends the backoff now and dispatches the next attempt. */
  async function skipBackoff(jobId: string) {
    await testbed.sql('update job set retry_at = now() where id = ?', [jobId]);
    await dispatch();
  }

  it('retries an APP_FAILURE with a listed exit code after the backoff, and stops at an unlisted one', async () => {
    const policy = retryPolicy({
      attempts: 3,
      retryOn: [FailureClass.APP_FAILURE],
      exitCodes: [2, 75],
      baseSeconds: 10,
    });
    const { job, spawn } = await placedJob({ retryPolicy: policy });

    const first = await failAttempt(spawn.id, { outcome: JobRunState.FAILED, exitCode: 2 });
    expect(first.state).toBe(JobState.PENDING);
    const waiting = await jobOf(job.id);
    expect(waiting.retryAt!.getTime()).toBeGreaterThanOrEqual(first.before + 10_000 - 5);
    expect(waiting.retryAt!.getTime()).toBeLessThanOrEqual(first.after + 10_000);
    expect(waiting.systemNote).toBe(
      `Attempt 1 of 3 exited with code 2; retrying at ${waiting.retryAt!.toISOString()}.`,
    );
    expect((await runOf(first.claimed.runId)).failureClass).toBe(FailureClass.APP_FAILURE);

    // Not before the backoff ends.
    await dispatch();
    expect((await jobOf(job.id)).state).toBe(JobState.PENDING);
    await skipBackoff(job.id);
    expect((await jobOf(job.id)).state).toBe(JobState.STARTING);

    const second = await failAttempt(spawn.id, { outcome: JobRunState.FAILED, exitCode: 1 });
    expect(second.claimed.attempt).toBe(2);
    expect(second.state).toBe(JobState.FAILED);
    expect((await jobOf(job.id)).systemNote).toBe('Attempt 2 of 3 exited with code 1.');
  });

  it('backs off exponentially up to the cap, with jitter in [0.5, 1] of the delay', async () => {
    const policy = retryPolicy({
      attempts: 4,
      backoff: BackoffKind.EXPONENTIAL,
      baseSeconds: 10,
      capSeconds: 15,
      jitter: true,
      retryOn: [FailureClass.INFRA_FAILURE],
    });
    const { job, spawn } = await placedJob({ retryPolicy: policy });
    const expected = [
      { random: () => 0, delay: 5_000 }, // 10 s × 0.5
      { random: () => 0.999_999, delay: 15_000 }, // 20 s capped at 15, × ~1
    ];
    for (const { random, delay } of expected) {
      const attempt = await failAttempt(
        spawn.id,
        { outcome: JobRunState.ERROR, systemNote: 'image pull failed' },
        random,
      );
      expect(attempt.state).toBe(JobState.PENDING);
      const retryAt = (await jobOf(job.id)).retryAt!.getTime();
      expect(retryAt).toBeGreaterThanOrEqual(attempt.before + delay - 5);
      expect(retryAt).toBeLessThanOrEqual(attempt.after + delay);
      await skipBackoff(job.id);
    }
  });

  it('does not retry classes the policy leaves out, nor past its attempts', async () => {
    const timeouts = await placedJob({ retryPolicy: retryPolicy({ retryOn: [FailureClass.APP_FAILURE] }) });
    expect((await failAttempt(timeouts.spawn.id, { outcome: JobRunState.TIMEOUT })).state).toBe(
      JobState.TIMEOUT,
    );

    const infra = await placedJob({
      retryPolicy: retryPolicy({ attempts: 2, retryOn: [FailureClass.INFRA_FAILURE] }),
    });
    expect((await failAttempt(infra.spawn.id, { outcome: JobRunState.ERROR })).state).toBe(JobState.PENDING);
    await skipBackoff(infra.job.id);
    expect(
      (await failAttempt(infra.spawn.id, { outcome: JobRunState.ERROR, systemNote: 'disk full' })).state,
    ).toBe(JobState.ERROR);
    expect((await jobOf(infra.job.id)).systemNote).toBe('Attempt 2 of 2 failed on the platform: disk full.');
  });
});

describe('safety nets', () => {
  it('times out a run past its deadline plus the grace, and refuses the agent afterwards', async () => {
    const { job, claimed, lifecycle } = await runningJob({ timeoutSeconds: 1 });

    expect(await maintenance(60).timeOutOverdueRuns()).toBe(0);
    await waitFor(async () => (await maintenance(0).timeOutOverdueRuns()) > 0, {
      what: 'the timeout backstop',
    });

    expect(await runOf(claimed.runId)).toMatchObject({
      state: JobRunState.TIMEOUT,
      failureClass: FailureClass.TIMEOUT,
    });
    expect((await jobOf(job.id)).state).toBe(JobState.TIMEOUT);
    await expect(
      lifecycle.finishRun(claimed.runId, claimed.leaseToken, { outcome: JobRunState.COMPLETED }),
    ).rejects.toBeInstanceOf(RunLeaseError);
  });

  it('marks a silent spawn LOST, its run ERROR(INFRA_FAILURE), and retries the job elsewhere', async () => {
    const policy = retryPolicy({ attempts: 2, retryOn: [FailureClass.INFRA_FAILURE] });
    const { job, claimed, spawn, environment } = await runningJob({ retryPolicy: policy });
    const lifecycle = testbed.lifecycle({ agentLeaseSeconds: 0.2 });
    await lifecycle.heartbeat(spawn.id, { slotsUsed: 1 });
    expect(await maintenance().markLostSpawns()).toBe(0);

    await waitFor(async () => (await maintenance().markLostSpawns()) > 0, { what: 'the lost spawn' });

    const { hostname } = spawn;
    expect(await testbed.sql('select state from compute_spawn where id = ?', [spawn.id])).toEqual([
      { state: ComputeSpawnState.LOST },
    ]);
    const run = await runOf(claimed.runId);
    expect(run).toMatchObject({ state: JobRunState.ERROR, failureClass: FailureClass.INFRA_FAILURE });
    expect(run.systemNote).toMatch(new RegExp(`^agent ${hostname} lost: no heartbeat since \\d{4}-`));
    const retrying = await jobOf(job.id);
    expect(retrying.state).toBe(JobState.PENDING);
    expect(retrying.systemNote).toContain(`Attempt 1 of 2 failed on the platform: agent ${hostname} lost`);

    const replacement = await testbed.spawn(environment);
    await testbed.sql('update job set retry_at = now() where id = ?', [job.id]);
    await dispatch();
    const [second] = await testbed.lifecycle().claimRuns(replacement.id, 1);
    expect(second).toMatchObject({ jobId: job.id, attempt: 2 });
    await expect(
      testbed.lifecycle().finishRun(claimed.runId, claimed.leaseToken, { outcome: JobRunState.COMPLETED }),
    ).rejects.toBeInstanceOf(RunLeaseError);
  });
});

describe('heartbeat', () => {
  let listener: pg.Client;
  const notifications: string[] = [];
  beforeAll(async () => {
    listener = new pg.Client({ connectionString: testbed.url });
    await listener.connect();
    listener.on('notification', (message) => notifications.push(message.payload ?? ''));
    await listener.query(`listen ${SCHEDULER_CHANNEL}`);
  });
  afterAll(() => listener.end());

  it('brings a spawn ONLINE with a renewed lease and wakes the scheduler', async () => {
    const project = await testbed.project();
    const spawn = await testbed.spawn(await testbed.environment(project), {
      state: ComputeSpawnState.PROVISIONING,
      leaseExpiresAt: null,
    });
    const before = Date.now();
    const ack = await testbed
      .lifecycle({ agentLeaseSeconds: 30 })
      .heartbeat(spawn.id, { slotsUsed: 0, cpuCount: 8 });

    expect(ack.leaseExpiresAt.getTime()).toBeGreaterThanOrEqual(before + 29_000);
    expect(ack.cancelRunIds).toEqual([]);
    const [row] = await testbed.sql<{ state: string; cpu_count: number; idle_since: string | null }>(
      'select state, cpu_count, idle_since from compute_spawn where id = ?',
      [spawn.id],
    );
    expect(row).toMatchObject({ state: 'ONLINE', cpu_count: 8 });
    expect(row!.idle_since).not.toBeNull();
    await waitFor(() => notifications.includes('spawn.online'), { what: 'the spawn.online notification' });
  });

  it('brings a LOST spawn back, and refuses a TERMINATED one', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    const lost = await testbed.spawn(environment, { state: ComputeSpawnState.LOST });
    const terminated = await testbed.spawn(environment, { state: ComputeSpawnState.TERMINATED });
    const lifecycle = testbed.lifecycle();

    await lifecycle.heartbeat(lost.id, { slotsUsed: 0 });
    expect(
      (await testbed.sql<{ state: string }>('select state from compute_spawn where id = ?', [lost.id]))[0]!
        .state,
    ).toBe('ONLINE');
    await expect(lifecycle.heartbeat(terminated.id, { slotsUsed: 0 })).rejects.toBeInstanceOf(
      SpawnRetiredError,
    );
  });

  it('ends runs claimed past the grace that the agent does not hold as ERROR, and retries their jobs', async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project);
    const spawn = await testbed.spawn(environment);
    const queue = await testbed.queue(project, [environment]);
    const policy = retryPolicy({ attempts: 2, retryOn: [FailureClass.INFRA_FAILURE] });
    const definition = await testbed.definition(project, { retryPolicy: policy });
    const [held, lost, unclaimed] = await testbed.jobs(queue, definition, 3);
    await dispatch();
    // Two runs claimed; the answer of the second never reached the agent. The third stays unclaimed.
    const [heldRun, lostRun] = await testbed.lifecycle().claimRuns(spawn.id, 2);
    expect([heldRun!.jobId, lostRun!.jobId]).toEqual([held!.id, lost!.id]);
    const lifecycle = testbed.lifecycle({ claimGraceSeconds: 5 });
    const heldRunIds = [heldRun!.runId];
    const events = testbed.recordJobEvents();

    // Within the grace the answer may still be on its way; an older agent lists nothing at all.
    await lifecycle.heartbeat(spawn.id, { slotsUsed: 1, heldRunIds });
    await testbed.sql(`update job_run set claimed_at = now() - interval '6 seconds' where spawn_id = ?`, [
      spawn.id,
    ]);
    await lifecycle.heartbeat(spawn.id, { slotsUsed: 1 });
    expect((await runOf(lostRun!.runId)).state).toBe(JobRunState.STARTING);
    expect(events).toEqual([]);

    notifications.length = 0;
    await lifecycle.heartbeat(spawn.id, { slotsUsed: 1, heldRunIds: [...heldRunIds, 'not-an-id'] });

    const failed = await runOf(lostRun!.runId);
    expect(failed).toMatchObject({ state: JobRunState.ERROR, failureClass: FailureClass.INFRA_FAILURE });
    expect(failed.systemNote).toMatch(
      /^the agent did not hold this run: claimed at \d{4}-\d\d-\d\dT[\d:]+Z, it is missing from the agent's heartbeats 5 s later/,
    );
    const retrying = await jobOf(lost!.id);
    expect(retrying.state).toBe(JobState.PENDING);
    expect(retrying.systemNote).toContain(
      'Attempt 1 of 2 failed on the platform: the agent did not hold this run',
    );
    expect(events.map(({ jobId, from, to }) => ({ jobId, from, to }))).toEqual([
      { jobId: lost!.id, from: JobState.STARTING, to: JobState.PENDING },
    ]);
    await waitFor(() => notifications.includes('run.finished'), { what: 'the run.finished notification' });
    // The held run, and the run no agent claimed yet, are untouched.
    expect((await runOf(heldRun!.runId)).state).toBe(JobRunState.STARTING);
    expect(await testbed.jobStates([held!.id, unclaimed!.id])).toEqual([
      JobState.STARTING,
      JobState.STARTING,
    ]);
    await expect(lifecycle.markRunning(lostRun!.runId, lostRun!.leaseToken)).rejects.toBeInstanceOf(
      RunLeaseError,
    );
  });
});
