import type { EntityManager } from '@mikro-orm/postgresql';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { LimitsService } from '../billing/limits.service.js';
import { JobState } from '../workloads/job-state.js';
import {
  backingOffSql,
  loadAdmissionState,
  loadPlacementTargets,
  planRoom,
  queueRoom,
  scheduledLaterSql,
} from './dispatch-rules.js';

export enum WaitingReasonCode {
  SCHEDULED_FOR_LATER = 'SCHEDULED_FOR_LATER',
  RETRY_BACKOFF = 'RETRY_BACKOFF',
  QUEUE_DISABLED = 'QUEUE_DISABLED',
  QUEUE_AT_MAX_CONCURRENCY = 'QUEUE_AT_MAX_CONCURRENCY',
  PLAN_CONCURRENCY_LIMIT = 'PLAN_CONCURRENCY_LIMIT',
  NO_COMPUTE_ENVIRONMENT_LINKED = 'NO_COMPUTE_ENVIRONMENT_LINKED',
  NO_AGENT_ONLINE = 'NO_AGENT_ONLINE',
  NO_FREE_SLOT = 'NO_FREE_SLOT',
}
registerEnumType(WaitingReasonCode, {
  name: 'WaitingReasonCode',
  description: 'Why a job is not running yet.',
  valuesConfig: {
    SCHEDULED_FOR_LATER: { description: 'Its scheduleAt is still ahead (see until).' },
    RETRY_BACKOFF: {
      description: 'An attempt failed; the next one waits for the retry backoff (see until).',
    },
    QUEUE_DISABLED: { description: 'Its queue is disabled.' },
    QUEUE_AT_MAX_CONCURRENCY: {
      description: "Its queue's maxConcurrency jobs are already running or starting.",
    },
    PLAN_CONCURRENCY_LIMIT: { description: "The organization's plan allows no more concurrent runs." },
    NO_COMPUTE_ENVIRONMENT_LINKED: { description: 'Its queue has no compute environment to run on.' },
    NO_AGENT_ONLINE: { description: "No agent of the queue's compute environments is online." },
    NO_FREE_SLOT: { description: 'Every slot of the online agents is busy.' },
  },
});

@ObjectType({ description: 'Why a job is waiting, in words and as a code.' })
export class WaitingReason {
  @Field(() => WaitingReasonCode)
  code!: WaitingReasonCode;

  @Field({ description: 'A sentence a person can act on.' })
  message!: string;

  @Field(() => Date, { nullable: true, description: 'When the wait ends by itself, if it does.' })
  until?: Date;
}

/** The job fields explainWaiting reads. */
export interface WaitingJob {
  id: string;
  state: JobState;
  queue: { id: string };
}

const reason = (code: WaitingReasonCode, message: string, until?: Date): WaitingReason =>
  Object.assign(new WaitingReason(), { code, message, ...(until && { until }) });

/**
 * Why `job` is not running yet, by the rules the dispatcher applies
 * (dispatch-rules.ts), or null when it is not waiting (or about to move on).
 */
export async function explainWaiting(
  em: EntityManager,
  job: WaitingJob,
  limits: LimitsService = new LimitsService(),
): Promise<WaitingReason | null> {
  const awaitingAdmission = job.state === JobState.SUBMITTED || job.state === JobState.PENDING;
  if (!awaitingAdmission && job.state !== JobState.RUNNABLE) return null;

  if (awaitingAdmission) {
    const [timing] = await em.execute<
      { backing_off: boolean; retry_at: Date | null; scheduled_later: boolean; schedule_at: Date | null }[]
    >(
      `select ${backingOffSql('j')} as backing_off, j.retry_at, ${scheduledLaterSql('j')} as scheduled_later, j.schedule_at
       from job j where j.id = ?`,
      [job.id],
    );
    if (!timing) return null;
    if (timing.backing_off) {
      const until = new Date(timing.retry_at!);
      return reason(
        WaitingReasonCode.RETRY_BACKOFF,
        `The last attempt failed; the next one starts after its retry backoff, at ${until.toISOString()}.`,
        until,
      );
    }
    if (timing.scheduled_later) {
      const until = new Date(timing.schedule_at!);
      return reason(
        WaitingReasonCode.SCHEDULED_FOR_LATER,
        `Scheduled to start at ${until.toISOString()}.`,
        until,
      );
    }
  }

  const { queues, organizations } = await loadAdmissionState(em, [job.queue.id], limits);
  const queue = queues.get(job.queue.id);
  if (!queue) return null;
  const environments = (await loadPlacementTargets(em, [job.queue.id])).get(job.queue.id) ?? [];
  if (!queue.enabled) {
    return reason(
      WaitingReasonCode.QUEUE_DISABLED,
      environments.length === 0
        ? `Queue ${queue.name} is disabled: link a compute environment to it, then enable it.`
        : `Queue ${queue.name} is disabled: enable it to run its jobs.`,
    );
  }

  if (awaitingAdmission) {
    if (queueRoom(queue) <= 0) {
      return reason(
        WaitingReasonCode.QUEUE_AT_MAX_CONCURRENCY,
        `Queue ${queue.name} runs at most ${queue.maxConcurrency} jobs at once, and ${queue.admitted} are ` +
          'running or waiting for a slot; this job starts when one finishes.',
      );
    }
    const organization = organizations.get(queue.organizationId)!;
    if (planRoom(organization) <= 0) {
      return reason(
        WaitingReasonCode.PLAN_CONCURRENCY_LIMIT,
        `The ${organization.plan} plan allows ${organization.concurrentRuns} concurrent runs and all are in use; ` +
          'this job starts when one finishes, or change plans for more.',
      );
    }
    return null;
  }

  if (environments.length === 0) {
    return reason(
      WaitingReasonCode.NO_COMPUTE_ENVIRONMENT_LINKED,
      `Queue ${queue.name} has no compute environment linked: link one to run its jobs.`,
    );
  }
  const names = environments.map((environment) => environment.name).join(', ');
  const spawns = environments.flatMap((environment) => environment.spawns);
  if (spawns.length === 0) {
    return reason(
      WaitingReasonCode.NO_AGENT_ONLINE,
      `No agent is online in ${names}: start one (daestro agent) or wait for a cloud spawn.`,
    );
  }
  if (spawns.every((spawn) => spawn.free <= 0)) {
    return reason(
      WaitingReasonCode.NO_FREE_SLOT,
      `Every slot of the online agents in ${names} is busy; this job starts when one frees up.`,
    );
  }
  return null;
}
