import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrm, type MikroORM } from '../../src/db/orm.js';
import {
  fireDueSchedules,
  fireSchedule,
  latestDueSlot,
  scheduledJobName,
  type CronFiringOptions,
} from '../../src/scheduler/cron.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { CronOverlapPolicy, type CronSchedule } from '../../src/workloads/cron-schedule.entity.js';
import { envSlot } from '../../src/workloads/env-vars.js';
import type { JobDefinition } from '../../src/workloads/job-definition.entity.js';
import type { JobQueue } from '../../src/workloads/job-queue.entity.js';
import { JobState } from '../../src/workloads/job-state.js';
import { Job } from '../../src/workloads/job.entity.js';
import { waitFor } from '../support/wait-for.js';
import { openSchedulerTestbed, silentLog, type Testbed } from './fixtures.js';

let testbed: Testbed;
/** A second server process's ORM: its own pool. */
let otherOrm: MikroORM;
let queue: JobQueue;
let definition: JobDefinition;
let firing: CronFiringOptions;

beforeAll(async () => {
  testbed = await openSchedulerTestbed();
  otherOrm = await initOrm(testbed.url);
  const project = await testbed.project();
  definition = await testbed.definition(project);
  // Disabled: fired jobs stay SUBMITTED here, nothing dispatches them.
  queue = await testbed.queue(project, [], { enabled: false });
  firing = { pubSub: testbed.pubSub, secretsFor: testbed.secretsFor };
});
afterAll(() => otherOrm.close(true));

const MINUTE = 60_000;
/** The start of the current minute, minus `minutes`. */
const minuteSlot = (minutesAgo: number) =>
  new Date(Math.floor(Date.now() / MINUTE) * MINUTE - minutesAgo * MINUTE);

async function firesOf(schedule: CronSchedule) {
  return testbed.sql<{ slot: string; job_id: string | null; note: string | null }>(
    'select slot, job_id, note from cron_fire where schedule_id = ? order by slot',
    [schedule.id],
  );
}

async function jobsOf(schedule: CronSchedule): Promise<Job[]> {
  return testbed.em.find(Job, { createdBySchedule: schedule.id }, { orderBy: { createdAt: 'asc' } });
}

async function scheduleRow(schedule: CronSchedule) {
  const [row] = await testbed.sql<{ next_fire_at: string; last_fired_at: string | null }>(
    'select next_fire_at, last_fired_at from cron_schedule where id = ?',
    [schedule.id],
  );
  return {
    nextFireAt: new Date(row!.next_fire_at),
    lastFiredAt: row!.last_fired_at && new Date(row!.last_fired_at),
  };
}

describe('firing a slot', () => {
  it('fires each slot once with two schedulers firing at the same time', async () => {
    const schedule = await testbed.schedule(queue, definition, { nextFireAt: minuteSlot(0) });

    await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        fireDueSchedules(index % 2 === 0 ? testbed.orm.em : otherOrm.em, firing),
      ),
    );

    const fires = await firesOf(schedule);
    const jobs = await jobsOf(schedule);
    expect(fires).toHaveLength(1);
    expect(jobs).toHaveLength(1);
    expect(fires[0]!.job_id).toBe(jobs[0]!.id);
    // The current minute's slot (the one the schedule started at, unless the minute turned meanwhile).
    const slot = new Date(fires[0]!.slot);
    expect(slot.getTime()).toBeGreaterThanOrEqual(schedule.nextFireAt!.getTime());
    expect(jobs[0]!).toMatchObject({
      state: JobState.SUBMITTED,
      name: scheduledJobName(schedule.name, slot),
    });
    const row = await scheduleRow(schedule);
    expect(row.lastFiredAt).toEqual(slot);
    expect(row.nextFireAt).toEqual(new Date(slot.getTime() + MINUTE));

    // A scheduler that still believes the slot is due (say its clock or nextFireAt is stale)
    // finds the slot's fire row and submits nothing.
    await testbed.sql('update cron_schedule set next_fire_at = ? where id = ?', [slot, schedule.id]);
    const withinSlot = new Date(slot.getTime() + 30_000);
    const outcomesOfSchedule = await Promise.all(
      [testbed.orm, otherOrm].map((orm) => fireSchedule(orm.em, firing, schedule.id, withinSlot)),
    );
    expect(outcomesOfSchedule.filter((outcome) => outcome === 'ALREADY_FIRED')).toHaveLength(1);
    expect(outcomesOfSchedule).not.toContain('SUBMITTED');
    expect(await jobsOf(schedule)).toHaveLength(1);
  });

  it('fires the slots missed while down once, as the latest of them', async () => {
    const schedule = await testbed.schedule(queue, definition, {
      expression: '*/5 * * * *',
      nextFireAt: minuteSlot(180),
    });
    const latest = latestDueSlot('*/5 * * * *', 'UTC', minuteSlot(180), new Date());

    await fireDueSchedules(testbed.orm.em, firing);
    await fireDueSchedules(otherOrm.em, firing);

    expect(latest.getTime()).toBeGreaterThan(Date.now() - 5 * MINUTE);
    expect((await firesOf(schedule)).map((fire) => new Date(fire.slot))).toEqual([latest]);
    expect(await jobsOf(schedule)).toHaveLength(1);
    expect((await scheduleRow(schedule)).nextFireAt).toEqual(new Date(latest.getTime() + 5 * MINUTE));
  });

  it("moves nextFireAt in the schedule's timezone", async () => {
    const schedule = await testbed.schedule(queue, definition, {
      expression: '30 3 * * *',
      timezone: 'Asia/Kolkata',
      nextFireAt: minuteSlot(24 * 60),
    });
    const firedAt = Date.now();
    await fireDueSchedules(testbed.orm.em, firing);

    const { nextFireAt } = await scheduleRow(schedule);
    // 03:30 in Kolkata (UTC+05:30) is 22:00 UTC, the next one after now.
    expect(nextFireAt.toISOString()).toMatch(/T22:00:00\.000Z$/);
    expect(nextFireAt.getTime() - firedAt).toBeGreaterThan(0);
    expect(nextFireAt.getTime() - firedAt).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it("seals the schedule's env overrides again for the job it submits", async () => {
    const schedule = await testbed.schedule(queue, definition, { nextFireAt: minuteSlot(0) });
    const env = await testbed.seal('cron_schedule', schedule.id, [
      { name: 'TARGET', value: 'nightly', sensitive: true },
    ]);
    await testbed.sql(`update cron_schedule set overrides = ?::jsonb where id = ?`, [
      JSON.stringify({ parameters: { day: 'today' }, env }),
      schedule.id,
    ]);

    await fireDueSchedules(testbed.orm.em, firing);

    const [job] = await jobsOf(schedule);
    expect(job!.overrides.parameters).toEqual({ day: 'today' });
    const [variable] = job!.overrides.env;
    expect(variable).toMatchObject({ name: 'TARGET', sensitive: true });
    expect(
      await testbed.secretsFor(testbed.em).open(envSlot('job', job!.id, 'TARGET'), variable!.value),
    ).toBe('nightly');
  });
});

describe('a slot that cannot be submitted', () => {
  it('is recorded as skipped, with the reason submit would give', async () => {
    const project = await testbed.project();
    const needsParameter = await testbed.definition(project, { command: ['backup', 'Param::bucket'] });
    const schedule = await testbed.schedule(
      await testbed.queue(project, [], { enabled: false }),
      needsParameter,
      { nextFireAt: minuteSlot(0) },
    );

    const firedAt = Date.now();
    await fireDueSchedules(testbed.orm.em, firing);

    expect(await jobsOf(schedule)).toEqual([]);
    const [fire] = await firesOf(schedule);
    expect(fire!.note).toMatch(/^Skipped: The command needs Param::bucket/);
    // The next slot after the fire (a minute boundary may pass meanwhile on a busy machine).
    expect((await scheduleRow(schedule)).nextFireAt.getTime()).toBeGreaterThan(firedAt);
  });
});

describe('overlap policies', () => {
  async function scheduleWithUnfinishedJob(overlapPolicy: CronOverlapPolicy, state: JobState) {
    const schedule = await testbed.schedule(queue, definition, { overlapPolicy, nextFireAt: minuteSlot(0) });
    const previous = await testbed.job(queue, definition, { state, schedule });
    await fireDueSchedules(testbed.orm.em, firing);
    return { schedule, previous };
  }

  it('ALLOW fires while the previous job runs', async () => {
    const { schedule, previous } = await scheduleWithUnfinishedJob(CronOverlapPolicy.ALLOW, JobState.RUNNING);
    expect(await jobsOf(schedule)).toHaveLength(2);
    expect(await testbed.jobState(previous.id)).toBe(JobState.RUNNING);
  });

  it('FORBID skips the slot, saying why', async () => {
    const { schedule, previous } = await scheduleWithUnfinishedJob(
      CronOverlapPolicy.FORBID,
      JobState.RUNNING,
    );
    expect(await jobsOf(schedule)).toHaveLength(1);
    expect(await firesOf(schedule)).toEqual([
      expect.objectContaining({
        job_id: null,
        note: `Skipped: job ${previous.name} from an earlier slot is still RUNNING.`,
      }),
    ]);
  });

  it('REPLACE cancels the unfinished job, then fires', async () => {
    const running = await scheduleWithUnfinishedJob(CronOverlapPolicy.REPLACE, JobState.RUNNING);
    expect(await testbed.jobState(running.previous.id)).toBe(JobState.CANCELLING);
    expect(await jobsOf(running.schedule)).toHaveLength(2);

    const pending = await scheduleWithUnfinishedJob(CronOverlapPolicy.REPLACE, JobState.PENDING);
    expect(await testbed.jobState(pending.previous.id)).toBe(JobState.CANCELLED);
    const previous = await testbed.em.findOneOrFail(Job, { id: pending.previous.id });
    expect(previous.systemNote).toMatch(/^Replaced by the schedule's run for /);
  });

  it('fires normally once the previous job finished', async () => {
    const { schedule } = await scheduleWithUnfinishedJob(CronOverlapPolicy.FORBID, JobState.COMPLETED);
    expect(await jobsOf(schedule)).toHaveLength(2);
  });
});

describe('two scheduler processes', () => {
  it('fire a due schedule once between them', async () => {
    const config = { sweepMs: 50, leaderRetryMs: 100, timeoutGraceSeconds: 30 };
    const schedulers = [testbed.orm, otherOrm].map(
      (orm) =>
        new Scheduler(
          {
            orm,
            databaseUrl: testbed.url,
            pubSub: testbed.pubSub,
            log: silentLog,
            secretsFor: testbed.secretsFor,
          },
          config,
        ),
    );
    for (const scheduler of schedulers) scheduler.start();
    try {
      await waitFor(() => schedulers.some((scheduler) => scheduler.isLeader), { what: 'a leader' });
      const schedule = await testbed.schedule(queue, definition, { nextFireAt: minuteSlot(0) });
      await waitFor(async () => (await firesOf(schedule)).length > 0, { what: 'the fire' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // several more sweeps

      expect(schedulers.filter((scheduler) => scheduler.isLeader)).toHaveLength(1);
      expect(await firesOf(schedule)).toHaveLength(1);
      expect(await jobsOf(schedule)).toHaveLength(1);
    } finally {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    }
  });
});
