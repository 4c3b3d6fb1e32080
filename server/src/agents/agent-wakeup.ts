import type { EntityManager } from '@mikro-orm/postgresql';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import { pgArray, SLOT_HOLDING_RUN_STATES } from '../scheduler/dispatch-rules.js';
import type { AgentWakeupReason } from './agent.types.js';

/** The `agent.wakeup` payload, keyed by spawn. Plain data. */
export interface AgentWakeupEvent {
  spawnId: string;
  reason: `${AgentWakeupReason}`;
  /** CANCEL_REQUESTED: the run to stop. */
  runId?: string;
}

/**
 * Rings the agents holding the jobs' current runs: their jobs are being
 * cancelled. Call after the cancel is committed. Runs no agent claimed yet
 * need no ring: the scheduler cancels them itself.
 */
export async function ringAgentsToCancel(
  em: EntityManager,
  pubSub: DaestroPubSub,
  jobIds: string[],
): Promise<void> {
  const runs = await em.execute<{ id: string; spawn_id: string }[]>(
    `select id, spawn_id from job_run
     where job_id = any(?::uuid[]) and state = any(?::job_run_state[]) and lease_token is not null`,
    [pgArray(jobIds), pgArray(SLOT_HOLDING_RUN_STATES)],
  );
  for (const run of runs) {
    pubSub.publish('agent.wakeup', run.spawn_id, {
      spawnId: run.spawn_id,
      reason: 'CANCEL_REQUESTED',
      runId: run.id,
    });
  }
}
