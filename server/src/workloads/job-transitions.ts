import type { EntityManager } from '@mikro-orm/postgresql';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import { pgArray } from '../scheduler/dispatch-rules.js';
import { canTransition, JobState } from './job-state.js';

/** A job changed state; published on `job.event` keyed by project, after commit. Plain data only. */
export interface JobEvent {
  jobId: string;
  projectId: string;
  queueId: string;
  from: JobState;
  to: JobState;
  /** ISO time of the transition. */
  at: string;
  systemNote: string | null;
}

/**
 * A value the transition's own statement computes: SQL written in code, never
 * from input (e.g. `now()`, the time of the statement that also changed a run).
 */
export class SqlValue {
  constructor(readonly sql: string) {}
}

/** Columns a transition may set along with the state. */
export interface JobTransitionPatch {
  systemNote?: string | null;
  retryAt?: Date | null;
  startedAt?: Date | SqlValue | null;
  finishedAt?: Date | SqlValue | null;
  attempts?: number;
}

/** A job a moveSql() statement moved. */
export interface MovedJobRow {
  job_id: string;
  project_id: string;
  queue_id: string;
  from_state: JobState;
  moved_at: Date | string;
}

/** The MovedJobRow columns of a job that did not move, in an outer join. */
export type NotMovedRow = { [column in keyof MovedJobRow]: null };

const PATCH_COLUMNS: Record<keyof JobTransitionPatch, string> = {
  systemNote: 'system_note',
  retryAt: 'retry_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  attempts: 'attempts',
};

/**
 * The only way a job's state changes: one UPDATE guarded by the states the
 * caller expects, so concurrent cancel / finish / timeout never both win.
 */
export class JobTransitions {
  private readonly pending: JobEvent[] = [];

  constructor(
    private readonly em: EntityManager,
    private readonly pubSub: DaestroPubSub,
  ) {}

  /**
   * Moves the job from one of `from` to `to`; null when it was in none of them
   * (someone else moved it first). Runs in the EntityManager's current transaction;
   * the event waits for `publishCommitted()`.
   */
  async move(
    jobId: string,
    from: JobState | readonly JobState[],
    to: JobState,
    patch: JobTransitionPatch = {},
  ): Promise<JobEvent | null> {
    const [event] = await this.moveMany([jobId], from, to, patch);
    return event ?? null;
  }

  /**
   * move() for a batch in one statement (the scheduler moves hundreds of jobs a
   * pass): the events of the jobs that were in one of `from`, in no particular order.
   */
  async moveMany(
    jobIds: readonly string[],
    from: JobState | readonly JobState[],
    to: JobState,
    patch: JobTransitionPatch = {},
  ): Promise<JobEvent[]> {
    const move = this.moveSql(
      'moved',
      { sql: 'id = any(?::uuid[])', params: [pgArray(jobIds)] },
      from,
      to,
      patch,
    );
    if (jobIds.length === 0) return [];
    const rows = await this.em.execute<MovedJobRow[]>(`with ${move.sql} select * from moved`, move.params);
    return this.moved(rows, to, patch);
  }

  /**
   * move() as two common table expressions for a statement of the caller's, so
   * a hot path changes its own rows and moves their jobs in one round trip. The
   * jobs are those of `job` matching `jobs` (e.g. `id in (select job_id from
   * finished)`, an earlier CTE). Put `sql` in the statement's WITH list and bind
   * `params` where it stands; the CTE `name` has a MovedJobRow per job moved:
   * hand those rows to moved() for the events.
   */
  moveSql(
    name: string,
    jobs: { sql: string; params: readonly unknown[] },
    from: JobState | readonly JobState[],
    to: JobState,
    patch: JobTransitionPatch = {},
  ): { sql: string; params: unknown[] } {
    const expected = (Array.isArray(from) ? from : [from]) as JobState[];
    const illegal = expected.filter((state) => !canTransition(state, to));
    if (illegal.length > 0) throw new Error(`Illegal job transition ${illegal.join('|')} → ${to}`);

    const assignments = ['state = ?', 'updated_at = now()'];
    const values: unknown[] = [to];
    for (const [key, value] of Object.entries(patch) as [keyof JobTransitionPatch, unknown][]) {
      if (value === undefined) continue;
      if (value instanceof SqlValue) {
        assignments.push(`${PATCH_COLUMNS[key]} = ${value.sql}`);
        continue;
      }
      assignments.push(`${PATCH_COLUMNS[key]} = ?`);
      values.push(value);
    }
    // The first CTE locks the jobs and reads their old state in the same statement, so the
    // event names the state really left.
    return {
      sql: `${name}_previous as (
         select id, state from job where (${jobs.sql}) and state = any(?::job_state[]) order by id for update
       ),
       ${name} as (
         update job set ${assignments.join(', ')} from ${name}_previous where job.id = ${name}_previous.id
         returning job.id as job_id, job.project_id, job.queue_id, ${name}_previous.state as from_state,
           job.updated_at as moved_at
       )`,
      params: [...jobs.params, pgArray(expected), ...values],
    };
  }

  /**
   * The events of a moveSql() statement, waiting for publishCommitted(). Rows
   * with a null job_id (say, from an outer join) are jobs that did not move.
   */
  moved(
    rows: readonly (MovedJobRow | NotMovedRow)[],
    to: JobState,
    patch: JobTransitionPatch = {},
  ): JobEvent[] {
    const events = rows
      .filter((row): row is MovedJobRow => row.job_id !== null)
      .map((row): JobEvent => ({
        jobId: row.job_id,
        projectId: row.project_id,
        queueId: row.queue_id,
        from: row.from_state,
        to,
        at: new Date(row.moved_at).toISOString(),
        systemNote: patch.systemNote ?? null,
      }));
    this.pending.push(...events);
    return events;
  }

  /** Publishes the events of transitions that are now committed. Call after the transaction (or at once outside one). */
  publishCommitted(): void {
    for (const event of this.pending.splice(0)) this.pubSub.publish('job.event', event.projectId, event);
  }

  /** Forgets events of a rolled-back transaction. */
  discard(): void {
    this.pending.length = 0;
  }
}
