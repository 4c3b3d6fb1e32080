import type { EntityManager } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import type { LimitsService } from '../billing/limits.service.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import { JobState } from '../workloads/job-state.js';
import { JobTransitions } from '../workloads/job-transitions.js';
import {
  AWAITING_ADMISSION,
  jobIsDueSql,
  loadAdmissionState,
  loadPlacementTargets,
  pgArray,
  planRoom,
  queueRoom,
  type QueueAdmission,
} from './dispatch-rules.js';

export interface DispatchOptions {
  pubSub: DaestroPubSub;
  limits: LimitsService;
  /** Most jobs admitted, and most placed, per queue per pass; a full batch asks for another pass. */
  batchSize?: number;
  /**
   * Runs first inside the pass's transaction; a pass whose fence answers false
   * changes nothing (the leader lost its lock meanwhile).
   */
  fence?: (em: EntityManager) => Promise<boolean>;
}

export interface DispatchResult {
  /** Jobs moved to RUNNABLE. */
  admitted: number;
  /** Runs created (jobs moved to STARTING). */
  placed: number;
  /** Spawns that received runs: their agents should claim now. */
  spawnIds: string[];
  /** A batch was full: more work may be waiting. */
  more: boolean;
  /** The fence refused: nothing was done. */
  fenced: boolean;
}

const DEFAULT_BATCH = 500;

/** Every dispatch pass in every process takes this transaction lock, so limits are counted by one pass at a time. */
const DISPATCH_LOCK_KEY = 0x73636870; // "schp"

interface Candidate {
  id: string;
  queue_id: string;
  state: JobState;
}

/**
 * One dispatch pass, in one transaction:
 * 1. admission: SUBMITTED and PENDING jobs that are due, in enabled queues, go to
 *    RUNNABLE while their queue's maxConcurrency and their organization's plan
 *    concurrentRuns allow (queues by ascending priority, FIFO within a queue);
 *    SUBMITTED jobs that must wait go to PENDING;
 * 2. RUNNABLE jobs of queues that were disabled go back to PENDING;
 * 3. placement: RUNNABLE jobs go to STARTING with a new JobRun on a spawn of the
 *    queue's linked environments, tried in link order, on the spawn with the most
 *    free slots.
 * Rows are taken with FOR UPDATE SKIP LOCKED, so a concurrent cancel is never waited on.
 * Events are published, and the spawns' agents woken, after commit.
 */
export async function runDispatchPass(em: EntityManager, options: DispatchOptions): Promise<DispatchResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  let transitions: JobTransitions | undefined;
  const result = await em.fork().transactional(async (tem): Promise<DispatchResult> => {
    await tem.execute('select pg_advisory_xact_lock(?)', [DISPATCH_LOCK_KEY]);
    if (options.fence && !(await options.fence(tem))) {
      return { admitted: 0, placed: 0, spawnIds: [], more: false, fenced: true };
    }
    transitions = new JobTransitions(tem, options.pubSub);
    const queues = await queuesWithWork(tem);
    const admission = await admit(
      tem,
      transitions,
      options.limits,
      batchSize,
      queues.filter((queue) => queue.awaiting_admission),
    );
    await requeueRunnableOfDisabledQueues(
      tem,
      transitions,
      batchSize,
      queues.filter((queue) => queue.runnable && !queue.enabled),
    );
    const placement = await place(
      tem,
      transitions,
      batchSize,
      queues.filter((queue) => queue.enabled && (queue.runnable || admission.queueIds.has(queue.id))),
    );
    return {
      admitted: admission.admitted,
      placed: placement.placed,
      spawnIds: placement.spawnIds,
      more: admission.more || placement.more,
      fenced: false,
    };
  });
  transitions?.publishCommitted();
  for (const spawnId of result.spawnIds) {
    options.pubSub.publish('agent.wakeup', spawnId, { spawnId, reason: 'RUNS_PLACED' });
  }
  return result;
}

interface QueueWork {
  id: string;
  enabled: boolean;
  priority: number;
  /** Has SUBMITTED or PENDING jobs. */
  awaiting_admission: boolean;
  /** Has RUNNABLE jobs. */
  runnable: boolean;
}

/** Queues with jobs to admit or place, by priority; each probe is a (queue, state) index lookup. */
async function queuesWithWork(em: EntityManager): Promise<QueueWork[]> {
  return em.execute<QueueWork[]>(
    `select * from (
       select q.id, q.enabled, q.priority,
         exists (select 1 from job j where j.queue_id = q.id and j.state = any(?::job_state[])) as awaiting_admission,
         exists (select 1 from job j where j.queue_id = q.id and j.state = 'RUNNABLE') as runnable
       from job_queue q) work
     where awaiting_admission or runnable
     order by priority, id`,
    [pgArray(AWAITING_ADMISSION)],
  );
}

/**
 * The first `limit` jobs in `states` of each queue, FIFO, optionally only due
 * ones, locked (SKIP LOCKED); in the order of `limits`, then FIFO.
 */
async function lockFirstJobs(
  em: EntityManager,
  limits: readonly { queueId: string; limit: number }[],
  states: readonly JobState[],
  dueOnly: boolean,
): Promise<Candidate[]> {
  if (limits.length === 0) return [];
  return em.execute<Candidate[]>(
    `select c.id, c.queue_id, c.state
     from unnest(?::uuid[], ?::int[]) with ordinality as q(id, lim, ord)
     cross join lateral (
       select j.id, j.queue_id, j.state, j.created_at from job j
       where j.queue_id = q.id and j.state = any(?::job_state[]) ${dueOnly ? `and ${jobIsDueSql('j')}` : ''}
       order by j.created_at, j.id limit q.lim
       for update of j skip locked
     ) c
     order by q.ord, c.created_at, c.id`,
    [
      pgArray(limits.map((entry) => entry.queueId)),
      pgArray(limits.map((entry) => entry.limit)),
      pgArray(states),
    ],
  );
}

async function admit(
  em: EntityManager,
  transitions: JobTransitions,
  limits: LimitsService,
  batchSize: number,
  queues: readonly QueueWork[],
): Promise<{ admitted: number; queueIds: Set<string>; more: boolean }> {
  if (queues.length === 0) return { admitted: 0, queueIds: new Set(), more: false };
  const state = await loadAdmissionState(
    em,
    queues.map((queue) => queue.id),
    limits,
  );
  const ordered = queues.map((queue) => state.queues.get(queue.id)!);
  const roomOf = (queue: QueueAdmission) =>
    Math.min(queueRoom(queue), planRoom(state.organizations.get(queue.organizationId)!));

  // Upper bounds per queue; the organization's room is shared out in priority order below.
  const fetchLimits = ordered
    .filter((queue) => queue.enabled)
    .map((queue) => ({ queueId: queue.queueId, limit: Math.min(roomOf(queue), batchSize) }))
    .filter((entry) => entry.limit > 0);
  const candidates = await lockFirstJobs(em, fetchLimits, AWAITING_ADMISSION, true);

  const admitted: string[] = [];
  for (const candidate of candidates) {
    const queue = state.queues.get(candidate.queue_id)!;
    if (roomOf(queue) <= 0) continue;
    admitted.push(candidate.id);
    queue.admitted += 1;
    state.organizations.get(queue.organizationId)!.admitted += 1;
  }
  const moved = await transitions.moveMany(admitted, AWAITING_ADMISSION, JobState.RUNNABLE, {
    retryAt: null,
  });

  // SUBMITTED jobs that cannot run yet are PENDING (waiting on time, a disabled queue or a limit).
  // A queue that still has room but filled its batch keeps them SUBMITTED for the next pass.
  const more = batchFilled(fetchLimits, candidates, batchSize);
  const blockedQueues = ordered.filter((queue) => !queue.enabled || roomOf(queue) <= 0).map((q) => q.queueId);
  const waiting = await em.execute<{ id: string }[]>(
    `select w.id from job_queue q cross join lateral (
       select j.id from job j where j.queue_id = q.id and j.state = 'SUBMITTED'
         and (q.id = any(?::uuid[]) or not (${jobIsDueSql('j')}))
       order by j.created_at, j.id limit ? for update of j skip locked) w
     where q.id = any(?::uuid[])`,
    [pgArray(blockedQueues), batchSize, pgArray(queues.map((queue) => queue.id))],
  );
  await transitions.moveMany(
    waiting.map((row) => row.id),
    JobState.SUBMITTED,
    JobState.PENDING,
  );
  return { admitted: moved.length, queueIds: new Set(moved.map((event) => event.queueId)), more };
}

/** A disabled queue runs nothing: its RUNNABLE jobs wait as PENDING until it is enabled again. */
async function requeueRunnableOfDisabledQueues(
  em: EntityManager,
  transitions: JobTransitions,
  batchSize: number,
  disabled: readonly QueueWork[],
): Promise<void> {
  const jobs = await lockFirstJobs(
    em,
    disabled.map((queue) => ({ queueId: queue.id, limit: batchSize })),
    [JobState.RUNNABLE],
    false,
  );
  await transitions.moveMany(
    jobs.map((job) => job.id),
    JobState.RUNNABLE,
    JobState.PENDING,
  );
}

async function place(
  em: EntityManager,
  transitions: JobTransitions,
  batchSize: number,
  queues: readonly QueueWork[],
): Promise<{ placed: number; spawnIds: string[]; more: boolean }> {
  if (queues.length === 0) return { placed: 0, spawnIds: [], more: false };
  const targets = await loadPlacementTargets(
    em,
    queues.map((queue) => queue.id),
  );
  // One counter per spawn: an environment linked to several queues shares its slots among them.
  const free = new Map<string, number>();
  for (const environments of targets.values()) {
    for (const environment of environments) {
      for (const spawn of environment.spawns) free.set(spawn.spawnId, spawn.free);
    }
  }
  const fetchLimits = queues
    .map((queue) => {
      const spawns = new Set((targets.get(queue.id) ?? []).flatMap((environment) => environment.spawns));
      const capacity = [...spawns].reduce((sum, spawn) => sum + Math.max(0, spawn.free), 0);
      return { queueId: queue.id, limit: Math.min(capacity, batchSize) };
    })
    .filter((entry) => entry.limit > 0);
  const candidates = await lockFirstJobs(em, fetchLimits, [JobState.RUNNABLE], false);

  const placements = new Map<string, string>();
  for (const candidate of candidates) {
    const spawnId = pickSpawn(targets.get(candidate.queue_id) ?? [], free);
    if (!spawnId) continue;
    free.set(spawnId, free.get(spawnId)! - 1);
    placements.set(candidate.id, spawnId);
  }
  const moved = await transitions.moveMany([...placements.keys()], JobState.RUNNABLE, JobState.STARTING);
  if (moved.length > 0) {
    const jobIds = moved.map((event) => event.jobId);
    const spawnIds = jobIds.map((jobId) => placements.get(jobId)!);
    // A run per placed job, with where it runs by name (history outlives the machine); the job's
    // attempts count them. A spawn deleted meanwhile fails the pass (null name, then foreign key).
    await em.execute(
      `with placed as (select * from unnest(?::uuid[], ?::uuid[], ?::uuid[]) as p(run_id, job_id, spawn_id)),
       counted as (update job set attempts = job.attempts + 1 from placed where job.id = placed.job_id
                   returning job.id, job.attempts)
       insert into job_run (id, job_id, attempt, state, spawn_id, spawn_hostname, compute_environment_name,
         created_at)
       select placed.run_id, placed.job_id, counted.attempts, 'STARTING', placed.spawn_id, s.hostname, e.name,
         now()
       from placed join counted on counted.id = placed.job_id
         left join compute_spawn s on s.id = placed.spawn_id
         left join compute_environment e on e.id = s.compute_environment_id`,
      [pgArray(jobIds.map(() => uuidv7())), pgArray(jobIds), pgArray(spawnIds)],
    );
  }
  const more = batchFilled(fetchLimits, candidates, batchSize);
  return {
    placed: moved.length,
    spawnIds: [...new Set(moved.map((event) => placements.get(event.jobId)!))],
    more,
  };
}

/** Whether some queue gave a full batch of candidates, so a next pass may find more. */
function batchFilled(
  fetchLimits: readonly { queueId: string; limit: number }[],
  candidates: readonly Candidate[],
  batchSize: number,
): boolean {
  const fetched = new Map<string, number>();
  for (const candidate of candidates)
    fetched.set(candidate.queue_id, (fetched.get(candidate.queue_id) ?? 0) + 1);
  return fetchLimits.some((entry) => entry.limit === batchSize && fetched.get(entry.queueId) === batchSize);
}

/** The first environment in link order with a free slot, and there the spawn with the most free slots. */
function pickSpawn(
  environments: readonly { spawns: readonly { spawnId: string }[] }[],
  free: ReadonlyMap<string, number>,
): string | undefined {
  for (const environment of environments) {
    let best: string | undefined;
    for (const { spawnId } of environment.spawns) {
      if ((free.get(spawnId) ?? 0) > 0 && (!best || free.get(spawnId)! > free.get(best)!)) best = spawnId;
    }
    if (best) return best;
  }
  return undefined;
}
