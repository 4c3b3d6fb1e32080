import type { EntityManager } from '@mikro-orm/postgresql';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import { JobRunState, JobState } from '../workloads/job-state.js';
import { JobTransitions } from '../workloads/job-transitions.js';
import { pgArray, SLOT_HOLDING_RUN_STATES } from './dispatch-rules.js';
import { FINISHED_RUN_COLUMNS, settleFinishedRuns, type FinishedRunRow } from './run-settlement.js';

/** Rows a sweep settles per transaction; the rest wait for the next sweep. */
const SWEEP_BATCH = 200;

// Active runs are found through compute_spawn and the (spawn, state) index, not by scanning every run ever made.

/**
 * The leader's time-based safety nets: runs past their deadline, spawns silent
 * past their lease, runs of cancelled jobs no agent claimed. Each finishes runs
 * through a guarded UPDATE (only runs still active), so an agent finishing the
 * same run at the same moment and this sweep never both win.
 */
export class SchedulerMaintenance {
  constructor(
    private readonly em: EntityManager,
    private readonly pubSub: DaestroPubSub,
    private readonly options: { timeoutGraceSeconds: number },
  ) {}

  /** Server-side timeout backstop: runs still active past deadlineAt + grace end as TIMEOUT. Returns how many. */
  timeOutOverdueRuns(): Promise<number> {
    return this.finishRuns((em) =>
      em.execute<FinishedRunRow[]>(
        `update job_run r set state = 'TIMEOUT', failure_class = 'TIMEOUT', finished_at = now(),
             system_note = 'The run passed its timeout and its agent did not stop it; the server timed it out.'
           where r.id in (
             select r2.id from compute_spawn s join job_run r2 on r2.spawn_id = s.id
             where r2.state = any(?::job_run_state[]) and r2.deadline_at < now() - make_interval(secs => ?)
             order by r2.deadline_at limit ? for update of r2 skip locked)
           returning ${FINISHED_RUN_COLUMNS}`,
        [
          pgArray([JobRunState.RUNNING, JobRunState.CANCELLING]),
          this.options.timeoutGraceSeconds,
          SWEEP_BATCH,
        ],
      ),
    );
  }

  /** Spawns whose lease ran out become LOST; their active runs end in ERROR(INFRA_FAILURE) and retry by policy. */
  markLostSpawns(): Promise<number> {
    return this.finishRuns(async (em) => {
      const lost = await em.execute<{ id: string }[]>(
        `update compute_spawn set state = 'LOST'
         where id in (select id from compute_spawn where state = 'ONLINE' and lease_expires_at < now()
                      limit ? for update skip locked)
         returning id`,
        [SWEEP_BATCH],
      );
      if (lost.length === 0) return [];
      return em.execute<FinishedRunRow[]>(
        `update job_run r set state = 'ERROR', failure_class = 'INFRA_FAILURE', finished_at = now(),
           system_note = format('agent %s lost: no heartbeat since %s', s.hostname,
             coalesce(to_char(s.last_heartbeat_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'it started'))
         from compute_spawn s
         where s.id = r.spawn_id and s.id = any(?::uuid[]) and r.state = any(?::job_run_state[])
         returning ${FINISHED_RUN_COLUMNS}`,
        [pgArray(lost.map((spawn) => spawn.id)), pgArray(SLOT_HOLDING_RUN_STATES)],
      );
    });
  }

  /** A job cancelled while its run waited to be claimed: the run never started, so it ends CANCELLED at once. */
  cancelUnclaimedRuns(): Promise<number> {
    return this.finishRuns((em) =>
      em.execute<FinishedRunRow[]>(
        `update job_run r set state = 'CANCELLED', finished_at = now(),
           system_note = 'Cancelled before an agent claimed it.'
         where r.id in (
           select r2.id from compute_spawn s join job_run r2 on r2.spawn_id = s.id join job j on j.id = r2.job_id
           where r2.state = 'STARTING' and r2.lease_token is null and j.state = ?
           limit ? for update of r2 skip locked)
         returning ${FINISHED_RUN_COLUMNS}`,
        [JobState.CANCELLING, SWEEP_BATCH],
      ),
    );
  }

  /** Writes runs' final state with `finish`, settles their jobs in the same transaction, publishes after commit. */
  private async finishRuns(finish: (em: EntityManager) => Promise<FinishedRunRow[]>): Promise<number> {
    let transitions: JobTransitions | undefined;
    const count = await this.em.fork().transactional(async (em) => {
      transitions = new JobTransitions(em, this.pubSub);
      const rows = await finish(em);
      await settleFinishedRuns(em, transitions, rows);
      return rows.length;
    });
    transitions?.publishCommitted();
    return count;
  }
}
