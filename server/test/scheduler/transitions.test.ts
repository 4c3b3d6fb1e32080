import { beforeAll, describe, expect, it } from 'vitest';
import { canTransition, JOB_TRANSITIONS, JobState } from '../../src/workloads/job-state.js';
import { JobTransitions } from '../../src/workloads/job-transitions.js';
import type { JobDefinition } from '../../src/workloads/job-definition.entity.js';
import type { JobQueue } from '../../src/workloads/job-queue.entity.js';
import { openSchedulerTestbed, type Testbed } from './fixtures.js';

let testbed: Testbed;
let queue: JobQueue;
let definition: JobDefinition;

beforeAll(async () => {
  testbed = await openSchedulerTestbed();
  const project = await testbed.project();
  definition = await testbed.definition(project);
  queue = await testbed.queue(project, [await testbed.environment(project)], { enabled: false });
});

const STATES = Object.values(JobState);

describe('JobTransitions.move over the whole transition table', () => {
  const pairs = STATES.flatMap((from) => STATES.map((to) => [from, to] as const));

  it('lists a legal transition for each arrow of DESIGN.md §2', () => {
    expect(canTransition(JobState.SUBMITTED, JobState.PENDING)).toBe(true);
    expect(canTransition(JobState.RUNNING, JobState.COMPLETED)).toBe(true);
    expect(canTransition(JobState.CANCELLING, JobState.CANCELLED)).toBe(true);
    expect(canTransition(JobState.COMPLETED, JobState.PENDING)).toBe(false);
    expect(pairs.filter(([from, to]) => canTransition(from, to))).toHaveLength(
      Object.values(JOB_TRANSITIONS).flat().length,
    );
  });

  it.each(pairs)('%s → %s', async (from, to) => {
    const job = await testbed.job(queue, definition, { state: from });
    const events = testbed.recordJobEvents();
    const em = testbed.em;
    const transitions = new JobTransitions(em, testbed.pubSub);

    if (canTransition(from, to)) {
      const event = await transitions.move(job.id, from, to, { systemNote: 'moved by the test' });
      expect(event).toMatchObject({ jobId: job.id, from, to, systemNote: 'moved by the test' });
      expect(events).toEqual([]); // not before publishCommitted
      transitions.publishCommitted();
      expect(events).toEqual([event]);
      expect(await testbed.jobState(job.id)).toBe(to);
      // The guard: a second identical move finds the job no longer in `from` (unless from = to).
      if (from !== to) expect(await transitions.move(job.id, from, to)).toBeNull();
    } else {
      await expect(transitions.move(job.id, from, to)).rejects.toThrow(
        `Illegal job transition ${from} → ${to}`,
      );
      expect(await testbed.jobState(job.id)).toBe(from);
    }
  });
});

describe('the guard on the expected state', () => {
  it('does nothing to a job that is not in an expected state', async () => {
    const job = await testbed.job(queue, definition, { state: JobState.RUNNING });
    const transitions = new JobTransitions(testbed.em, testbed.pubSub);
    expect(await transitions.move(job.id, JobState.PENDING, JobState.RUNNABLE)).toBeNull();
    expect(await testbed.jobState(job.id)).toBe(JobState.RUNNING);
  });

  it('moveMany moves the jobs in an expected state and reports the state each one left', async () => {
    const submitted = await testbed.job(queue, definition, { state: JobState.SUBMITTED });
    const pending = await testbed.job(queue, definition, { state: JobState.PENDING });
    const running = await testbed.job(queue, definition, { state: JobState.RUNNING });
    const transitions = new JobTransitions(testbed.em, testbed.pubSub);
    const events = await transitions.moveMany(
      [submitted.id, pending.id, running.id],
      [JobState.SUBMITTED, JobState.PENDING],
      JobState.RUNNABLE,
    );
    expect(new Map(events.map((event) => [event.jobId, event.from]))).toEqual(
      new Map([
        [submitted.id, JobState.SUBMITTED],
        [pending.id, JobState.PENDING],
      ]),
    );
    expect(await testbed.jobStates([submitted.id, pending.id, running.id])).toEqual([
      JobState.RUNNABLE,
      JobState.RUNNABLE,
      JobState.RUNNING,
    ]);
  });
});
