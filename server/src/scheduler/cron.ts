import type { EntityManager } from '@mikro-orm/postgresql';
import { UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import type { SecretService } from '../secrets/secret.service.js';
import { cronOf } from '../workloads/cron-expression.js';
import { CronOverlapPolicy, CronSchedule } from '../workloads/cron-schedule.entity.js';
import { EnvVars } from '../workloads/env-vars.js';
import { Job } from '../workloads/job.entity.js';
import { checkSubmittable } from '../workloads/job.service.js';
import { JobState, TERMINAL_JOB_STATES } from '../workloads/job-state.js';
import { JobTransitions } from '../workloads/job-transitions.js';
import { ringAgentsToCancel } from '../agents/agent-wakeup.js';
import { notifyScheduler } from './notify.js';
import { pgArray } from './dispatch-rules.js';

export interface CronFiringOptions {
  pubSub: DaestroPubSub;
  /** Opens a schedule's env overrides and seals them again for the job it submits. */
  secretsFor: (em: EntityManager) => SecretService;
}

/** Schedules fired per sweep; the rest fire on the next one. */
const FIRE_BATCH = 100;

/** What one schedule's due slot came to. */
export type FireOutcome = 'SUBMITTED' | 'SKIPPED' | 'ALREADY_FIRED' | 'NOT_DUE';

/**
 * The latest slot at or before `now`, counting from the schedule's nextFireAt:
 * slots missed while no scheduler ran fire once, as this one slot.
 */
export function latestDueSlot(expression: string, timezone: string, nextFireAt: Date, now: Date): Date {
  // previousRuns counts a slot in the same second as its reference, so +1 ms includes `now` itself.
  const [latest] = cronOf(expression, timezone).previousRuns(1, new Date(now.getTime() + 1));
  return latest && latest > nextFireAt ? latest : nextFireAt;
}

/** Fires every enabled schedule whose nextFireAt has passed; returns the outcome per schedule. */
export async function fireDueSchedules(
  em: EntityManager,
  options: CronFiringOptions,
): Promise<Map<string, FireOutcome>> {
  const due = await em
    .fork()
    .execute<{ id: string }[]>(
      'select id from cron_schedule where enabled and next_fire_at <= now() order by next_fire_at limit ?',
      [FIRE_BATCH],
    );
  const outcomes = new Map<string, FireOutcome>();
  for (const { id } of due) outcomes.set(id, await fireSchedule(em, options, id));
  return outcomes;
}

/**
 * Fires one schedule's latest due slot, in one transaction: the slot's CronFire
 * row is inserted ON CONFLICT DO NOTHING and only its inserter submits, so a
 * slot fires once whatever the number of schedulers; then nextFireAt moves to
 * the first slot after now, in the schedule's timezone.
 */
export async function fireSchedule(
  em: EntityManager,
  options: CronFiringOptions,
  scheduleId: string,
  now = new Date(),
): Promise<FireOutcome> {
  let transitions: JobTransitions | undefined;
  let replaced: string[] = [];
  const outcome = await em.fork().transactional(async (tem): Promise<FireOutcome> => {
    // SKIP LOCKED: another scheduler firing it right now has it; the row's recheck
    // under the lock also drops a schedule whose nextFireAt that one already moved.
    const locked = await tem.execute<{ id: string }[]>(
      `select id from cron_schedule where id = ? and enabled and next_fire_at <= ? for update skip locked`,
      [scheduleId, now],
    );
    if (locked.length === 0) return 'NOT_DUE';
    const schedule = await tem.findOneOrFail(
      CronSchedule,
      { id: scheduleId },
      { populate: ['definition', 'queue', 'project'], refresh: true },
    );
    transitions = new JobTransitions(tem, options.pubSub);
    const slot = latestDueSlot(schedule.expression, schedule.timezone, schedule.nextFireAt!, now);
    const inserted = await tem.execute<{ slot: Date }[]>(
      `insert into cron_fire (schedule_id, slot, fired_at) values (?, ?, now())
       on conflict (schedule_id, slot) do nothing returning slot`,
      [schedule.id, slot],
    );
    let outcome: FireOutcome = 'ALREADY_FIRED';
    if (inserted.length > 0) {
      const refusal = notSubmittable(schedule);
      const overlap = refusal ? null : await applyOverlapPolicy(tem, transitions, schedule, slot);
      replaced = overlap?.cancelling ?? [];
      const skipped = refusal ?? overlap?.skipped;
      if (skipped) {
        outcome = 'SKIPPED';
        await tem.execute('update cron_fire set note = ? where schedule_id = ? and slot = ?', [
          skipped,
          schedule.id,
          slot,
        ]);
      } else {
        const job = await submitFromSchedule(tem, new EnvVars(options.secretsFor(tem)), schedule, slot);
        await tem.execute('update cron_fire set job_id = ? where schedule_id = ? and slot = ?', [
          job.id,
          schedule.id,
          slot,
        ]);
        await notifyScheduler(tem, 'job.submitted');
        outcome = 'SUBMITTED';
      }
    }
    await tem.execute('update cron_schedule set last_fired_at = ?, next_fire_at = ? where id = ?', [
      slot,
      cronOf(schedule.expression, schedule.timezone).nextRun(now),
      schedule.id,
    ]);
    return outcome;
  });
  transitions?.publishCommitted();
  // REPLACE sent running jobs to CANCELLING: ring their agents now rather than at their next heartbeat.
  if (replaced.length > 0) await ringAgentsToCancel(em.fork(), options.pubSub, replaced);
  return outcome;
}

/** Why a job of the schedule cannot be submitted (deactivated version, missing `Param::` value), as submit says it. */
function notSubmittable(schedule: CronSchedule): string | null {
  try {
    checkSubmittable(schedule.project, schedule.definition, schedule.overrides);
    return null;
  } catch (error) {
    if (error instanceof UserError) return `Skipped: ${error.message}`;
    throw error;
  }
}

/**
 * FORBID: the reason to skip the slot while an earlier job of the schedule is
 * unfinished. REPLACE: cancels the unfinished ones first (those with a run go
 * to CANCELLING, listed in `cancelling`). ALLOW: nothing to do.
 */
async function applyOverlapPolicy(
  em: EntityManager,
  transitions: JobTransitions,
  schedule: CronSchedule,
  slot: Date,
): Promise<{ skipped: string | null; cancelling: string[] }> {
  const none = { skipped: null, cancelling: [] };
  if (schedule.overlapPolicy === CronOverlapPolicy.ALLOW) return none;
  const unfinished = await em.execute<{ id: string; name: string; state: JobState }[]>(
    `select id, name, state from job where created_by_schedule_id = ? and not (state = any(?::job_state[]))
     order by created_at for update`,
    [schedule.id, pgArray(TERMINAL_JOB_STATES)],
  );
  if (unfinished.length === 0) return none;
  if (schedule.overlapPolicy === CronOverlapPolicy.FORBID) {
    const [previous] = unfinished;
    return {
      skipped: `Skipped: job ${previous!.name} from an earlier slot is still ${previous!.state}.`,
      cancelling: [],
    };
  }
  const systemNote = `Replaced by the schedule's run for ${slot.toISOString()}.`;
  const waiting = [JobState.SUBMITTED, JobState.PENDING, JobState.RUNNABLE];
  const started = [JobState.STARTING, JobState.RUNNING];
  await transitions.moveMany(
    unfinished.filter((job) => waiting.includes(job.state)).map((job) => job.id),
    waiting,
    JobState.CANCELLED,
    { systemNote, finishedAt: new Date() },
  );
  const cancelling = await transitions.moveMany(
    unfinished.filter((job) => started.includes(job.state)).map((job) => job.id),
    started,
    JobState.CANCELLING,
    { systemNote },
  );
  return { skipped: null, cancelling: cancelling.map((event) => event.jobId) };
}

/**
 * Submits the schedule's job for a slot as JobService's submit and resubmit do
 * (checked by the same checkSubmittable, env sealed again through EnvVars.copy):
 * a SUBMITTED job pinned to the schedule's definition version, created by the
 * schedule. The caller notifies the scheduler in the same transaction.
 */
export async function submitFromSchedule(
  em: EntityManager,
  envVars: EnvVars,
  schedule: CronSchedule,
  slot: Date,
): Promise<Job> {
  const job = em.create(Job, {
    project: schedule.project,
    queue: schedule.queue,
    definition: schedule.definition,
    name: scheduledJobName(schedule.name, slot),
    overrides: { ...schedule.overrides, env: [] },
    createdBy: schedule.createdBy,
    createdBySchedule: schedule,
  });
  job.overrides.env = await envVars.copy(
    { owner: 'cron_schedule', ownerId: schedule.id, vars: schedule.overrides.env ?? [] },
    'job',
    job.id,
  );
  await em.flush();
  return job;
}

/** `<schedule>-<slot in UTC>`, e.g. nightly-20261127T0300Z: unique per queue, and says which slot it ran for. */
export function scheduledJobName(scheduleName: string, slot: Date): string {
  const stamp = slot
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\d\d\.\d{3}Z$/, 'Z');
  return `${scheduleName.slice(0, 64 - stamp.length - 1)}-${stamp}`;
}
