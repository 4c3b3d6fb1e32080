import { beforeAll, describe, expect, it } from 'vitest';
import { PlanCode, PLAN_LIMITS } from '../../src/billing/plans.js';
import { runDispatchPass } from '../../src/scheduler/dispatcher.js';
import { SchedulerMaintenance } from '../../src/scheduler/maintenance.js';
import { RunLeaseError } from '../../src/scheduler/run-lifecycle.service.js';
import { canTransition, JobRunState, JobState } from '../../src/workloads/job-state.js';
import { JobTransitions } from '../../src/workloads/job-transitions.js';
import { openSchedulerTestbed, type Testbed } from './fixtures.js';

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

const dispatch = () => runDispatchPass(testbed.orm.em, { pubSub: testbed.pubSub, limits: testbed.limits });

/** What workloads' cancelJob does to a job that has a run: RUNNING → CANCELLING, in its own transaction. */
async function cancel(jobId: string): Promise<boolean> {
  let transitions: JobTransitions | undefined;
  const moved = await testbed.em.transactional(async (em) => {
    transitions = new JobTransitions(em, testbed.pubSub);
    return transitions.move(jobId, [JobState.STARTING, JobState.RUNNING], JobState.CANCELLING, {
      systemNote: 'Cancelled by the race test',
    });
  });
  transitions?.publishCommitted();
  return moved !== null;
}

describe('concurrent cancel, finish and timeout', () => {
  const ITERATIONS = 40;

  it(`settle each job exactly once over ${ITERATIONS} races`, async () => {
    const project = await testbed.project();
    const environment = await testbed.environment(project, ITERATIONS);
    const spawn = await testbed.spawn(environment);
    const definition = await testbed.definition(project, { timeoutSeconds: 600 });
    const queue = await testbed.queue(project, [environment]);
    const jobs = await testbed.jobs(queue, definition, ITERATIONS);
    await dispatch();
    const claims = await testbed.lifecycle().claimRuns(spawn.id, ITERATIONS);
    expect(claims).toHaveLength(ITERATIONS);
    for (const claim of claims) await testbed.lifecycle().markRunning(claim.runId, claim.leaseToken);
    const events = testbed.recordJobEvents();
    const maintenance = new SchedulerMaintenance(testbed.orm.em, testbed.pubSub, { timeoutGraceSeconds: 0 });
    const tally = { cancelFirst: 0, finished: 0, timedOut: 0 };

    for (const [index, claim] of claims.entries()) {
      // Every run is overdue, so the backstop competes with the agent's finish and the user's cancel.
      await testbed.sql(`update job_run set deadline_at = now() - interval '1 second' where id = ?`, [
        claim.runId,
      ]);
      const outcome = index % 2 === 0 ? JobRunState.COMPLETED : JobRunState.FAILED;
      const [cancelled, finished, timedOut] = await Promise.all([
        cancel(claim.jobId),
        testbed
          .lifecycle()
          .finishRun(claim.runId, claim.leaseToken, {
            outcome,
            exitCode: outcome === JobRunState.FAILED ? 1 : 0,
          })
          .then(
            () => true,
            (error: unknown) => {
              if (error instanceof RunLeaseError) return false;
              throw error;
            },
          ),
        maintenance.timeOutOverdueRuns(),
      ]);

      // Exactly one finisher wrote the run.
      expect(Number(finished) + timedOut).toBe(1);
      const [run] = await testbed.sql<{ state: JobRunState }>('select state from job_run where id = ?', [
        claim.runId,
      ]);
      expect(run!.state).toBe(finished ? outcome : JobRunState.TIMEOUT);
      // The job ended once, consistently with who won.
      const state = await testbed.jobState(claim.jobId);
      if (cancelled) expect(state).toBe(JobState.CANCELLED);
      else expect(state).toBe(finished ? (outcome as string) : JobState.TIMEOUT);

      tally.cancelFirst += Number(cancelled);
      tally.finished += Number(finished);
      tally.timedOut += timedOut;
    }

    // No double or illegal transition: per job, the published events form one legal path from RUNNING.
    for (const job of jobs) {
      const path = events.filter((event) => event.jobId === job.id);
      let state = JobState.RUNNING;
      for (const event of path) {
        expect(event.from).toBe(state);
        expect(canTransition(event.from, event.to)).toBe(true);
        state = event.to;
      }
      expect(state).toBe(await testbed.jobState(job.id));
    }
    // How the wins split (each contender usually wins some), for whoever reads the log.
    console.info('race winners', tally);
    expect(tally.finished + tally.timedOut).toBe(ITERATIONS);
  });
});

describe('concurrent dispatch passes', () => {
  it('place each job once and keep the plan limit', async () => {
    const project = await testbed.project(PlanCode.FREE);
    const environment = await testbed.environment(project, 100);
    await testbed.spawn(environment);
    const definition = await testbed.definition(project);
    const queue = await testbed.queue(project, [environment]);
    const jobs = await testbed.jobs(queue, definition, 30);

    await Promise.all([dispatch(), dispatch(), dispatch()]);

    const runs = await testbed.sql<{ job_id: string; count: number }>(
      'select job_id, count(*)::int as count from job_run where job_id = any(?::uuid[]) group by job_id',
      [`{${jobs.map((job) => job.id).join(',')}}`],
    );
    expect(runs.every((row) => row.count === 1)).toBe(true);
    expect(runs).toHaveLength(PLAN_LIMITS[PlanCode.FREE].concurrentRuns);
  });
});
