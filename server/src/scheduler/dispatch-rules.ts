import type { EntityManager } from '@mikro-orm/postgresql';
import type { LimitsService } from '../billing/limits.service.js';
import type { PlanCode } from '../billing/plans.js';
import { JobRunState, JobState } from '../workloads/job-state.js';

/**
 * The rules a job waits on, shared by the dispatcher (which applies them to
 * batches) and by explainWaiting (which puts them in words for one job), so the
 * reason a user reads is the rule the scheduler really applies.
 */

/** Jobs waiting to be admitted past their queue's and plan's limits. */
export const AWAITING_ADMISSION: readonly JobState[] = [JobState.SUBMITTED, JobState.PENDING];

/** Admitted and unfinished: these count against queue maxConcurrency and the plan's concurrentRuns. */
export const ADMITTED_JOB_STATES: readonly JobState[] = [
  JobState.RUNNABLE,
  JobState.STARTING,
  JobState.RUNNING,
  JobState.CANCELLING,
];

/** Runs that hold a slot on their spawn. */
export const SLOT_HOLDING_RUN_STATES: readonly JobRunState[] = [
  JobRunState.STARTING,
  JobRunState.RUNNING,
  JobRunState.CANCELLING,
];

/** A PostgreSQL array literal for `?::<type>[]` bindings (ids and enum values only: no quoting needed). */
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.join(',')}}`;
}

/** SQL: job `alias` has a start time still ahead (run-at scheduling). */
export const scheduledLaterSql = (alias = 'j') => `coalesce(${alias}.schedule_at > now(), false)`;

/** SQL: job `alias` is waiting out a retry backoff. */
export const backingOffSql = (alias = 'j') => `coalesce(${alias}.retry_at > now(), false)`;

/** SQL: job `alias` may start now, as far as time goes. */
export const jobIsDueSql = (alias = 'j') => `not ${scheduledLaterSql(alias)} and not ${backingOffSql(alias)}`;

/** SQL: spawn `alias` takes new runs: ONLINE and its heartbeat lease not yet run out. */
export const spawnTakesRunsSql = (alias = 's') =>
  `${alias}.state = 'ONLINE' and coalesce(${alias}.lease_expires_at > now(), true)`;

/** SQL: the free slots of spawn `alias`: its slots minus the runs holding one. */
export const spawnFreeSlotsSql = (alias = 's') =>
  `(${alias}.slots - (select count(*)::int from job_run held where held.spawn_id = ${alias}.id
     and held.state = any('${pgArray(SLOT_HOLDING_RUN_STATES)}'::job_run_state[])))`;

/** A queue's admission state: how many of its jobs are admitted, against what limit. */
export interface QueueAdmission {
  queueId: string;
  name: string;
  enabled: boolean;
  priority: number;
  /** 0 means unlimited. */
  maxConcurrency: number;
  admitted: number;
  organizationId: string;
}

/** An organization's admitted jobs (in all its queues) against its plan's concurrentRuns. */
export interface OrganizationAdmission {
  organizationId: string;
  plan: PlanCode;
  concurrentRuns: number;
  admitted: number;
}

export interface AdmissionState {
  queues: Map<string, QueueAdmission>;
  organizations: Map<string, OrganizationAdmission>;
}

/** How many more jobs the queue admits (Infinity when maxConcurrency is 0). */
export function queueRoom(queue: QueueAdmission): number {
  return queue.maxConcurrency === 0 ? Infinity : Math.max(0, queue.maxConcurrency - queue.admitted);
}

/** How many more jobs the organization's plan admits. */
export function planRoom(organization: OrganizationAdmission): number {
  return Math.max(0, organization.concurrentRuns - organization.admitted);
}

/** Queue and plan capacity for the given queues and their organizations. */
export async function loadAdmissionState(
  em: EntityManager,
  queueIds: readonly string[],
  limits: LimitsService,
): Promise<AdmissionState> {
  const admittedStates = pgArray(ADMITTED_JOB_STATES);
  const queueRows = await em.execute<
    {
      id: string;
      name: string;
      enabled: boolean;
      priority: number;
      max_concurrency: number;
      organization_id: string;
      admitted: number;
    }[]
  >(
    `select q.id, q.name, q.enabled, q.priority, q.max_concurrency, p.organization_id,
       (select count(*)::int from job a where a.queue_id = q.id and a.state = any(?::job_state[])) as admitted
     from job_queue q join project p on p.id = q.project_id
     where q.id = any(?::uuid[])`,
    [admittedStates, pgArray(queueIds)],
  );
  const queues = new Map<string, QueueAdmission>();
  for (const row of queueRows) {
    queues.set(row.id, {
      queueId: row.id,
      name: row.name,
      enabled: row.enabled,
      priority: row.priority,
      maxConcurrency: row.max_concurrency,
      admitted: row.admitted,
      organizationId: row.organization_id,
    });
  }

  const organizationIds = [...new Set(queueRows.map((row) => row.organization_id))];
  // Counted through every queue of the organization (disabled ones too): the
  // (queue, state) index answers it without scanning finished jobs.
  const organizationRows = await em.execute<{ id: string; plan: PlanCode; admitted: number }[]>(
    `select o.id, o.plan,
       (select count(*)::int from job_queue q join project p on p.id = q.project_id
          join job a on a.queue_id = q.id and a.state = any(?::job_state[])
        where p.organization_id = o.id) as admitted
     from organization o where o.id = any(?::uuid[])`,
    [admittedStates, pgArray(organizationIds)],
  );
  const organizations = new Map<string, OrganizationAdmission>();
  for (const row of organizationRows) {
    organizations.set(row.id, {
      organizationId: row.id,
      plan: row.plan,
      concurrentRuns: limits.limitsOf(row.plan).concurrentRuns,
      admitted: row.admitted,
    });
  }
  return { queues, organizations };
}

/** A compute environment linked to a queue, with the spawns that take runs now. */
export interface PlacementEnvironment {
  computeEnvironmentId: string;
  name: string;
  position: number;
  /** Spawns taking runs, most free slots first; `free` may be 0 (or below, after slots shrank). */
  spawns: { spawnId: string; free: number }[];
}

/** For each queue, its linked environments in link order (queues without links are absent). */
export async function loadPlacementTargets(
  em: EntityManager,
  queueIds: readonly string[],
): Promise<Map<string, PlacementEnvironment[]>> {
  const rows = await em.execute<
    {
      queue_id: string;
      position: number;
      environment_id: string;
      environment_name: string;
      spawn_id: string | null;
      free: number | null;
    }[]
  >(
    `select l.queue_id, l.position, e.id as environment_id, e.name as environment_name,
       s.id as spawn_id, ${spawnFreeSlotsSql('s')} as free
     from job_queue_link l
     join compute_environment e on e.id = l.compute_environment_id
     left join compute_spawn s on s.compute_environment_id = e.id and ${spawnTakesRunsSql('s')}
     where l.queue_id = any(?::uuid[])
     order by l.queue_id, l.position, free desc nulls last, s.id`,
    [pgArray(queueIds)],
  );
  const targets = new Map<string, PlacementEnvironment[]>();
  for (const row of rows) {
    const environments = targets.get(row.queue_id) ?? [];
    targets.set(row.queue_id, environments);
    let environment = environments.at(-1);
    if (environment?.computeEnvironmentId !== row.environment_id) {
      environment = {
        computeEnvironmentId: row.environment_id,
        name: row.environment_name,
        position: row.position,
        spawns: [],
      };
      environments.push(environment);
    }
    if (row.spawn_id !== null) environment.spawns.push({ spawnId: row.spawn_id, free: row.free ?? 0 });
  }
  return targets;
}
