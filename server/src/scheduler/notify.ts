import type { EntityManager } from '@mikro-orm/postgresql';

/** The PostgreSQL channel the scheduler leader LISTENs on. */
export const SCHEDULER_CHANNEL = 'daestro_scheduler';

/** What changed; only logged by the leader, every reason leads to one dispatch pass. */
export type SchedulerWakeReason =
  | 'job.submitted'
  | 'job.cancelled'
  | 'run.finished'
  | 'queue.changed'
  | 'compute_environment.changed'
  | 'spawn.online';

/**
 * Asks the scheduler leader, in whichever process it runs, for a dispatch pass.
 * Inside a transaction the notification is delivered at commit (and dropped on
 * rollback), so the leader never looks before the change is visible. A lost
 * notification only delays work until the next periodic sweep.
 */
export async function notifyScheduler(em: EntityManager, reason: SchedulerWakeReason): Promise<void> {
  await em.execute(`select ${NOTIFY_SCHEDULER_SQL}`, notifySchedulerParams(reason));
}

/**
 * notifyScheduler as an SQL expression, to fold into a statement the caller
 * runs anyway (hot paths); bind notifySchedulerParams(reason) to it.
 */
export const NOTIFY_SCHEDULER_SQL = 'pg_notify(?, ?)';

export function notifySchedulerParams(reason: SchedulerWakeReason): [string, string] {
  return [SCHEDULER_CHANNEL, reason];
}
