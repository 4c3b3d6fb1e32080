import { isValidId } from '../db/ids.js';
import { pgArray, SLOT_HOLDING_RUN_STATES } from '../scheduler/dispatch-rules.js';
import { RunLeaseError } from '../scheduler/run-lifecycle.service.js';

/** What an agent presents with every write for a run it claimed. */
export interface RunLease {
  runId: string;
  leaseToken: string;
}

/**
 * SQL selecting `columns` of the run while `lease` still holds it: the token issued
 * at claim, the run placed on the calling agent's spawn and not finished. It
 * locks the row (FOR NO KEY UPDATE), so writes under one lease are serialized
 * with each other and with finishRun: a write lands before the run finishes or
 * is refused. The columns are read from the locked row, so they are current
 * even when the statement waited for another write under the same lease.
 */
export function heldRunSql(
  spawnId: string,
  lease: RunLease,
  columns = 'id',
): { sql: string; params: unknown[] } {
  // A malformed id or token would make PostgreSQL fail the cast: it simply holds nothing.
  if (!isValidId(lease.runId) || !isValidId(lease.leaseToken)) throw new RunLeaseError(lease.runId);
  return {
    sql:
      `select ${columns} from job_run where id = ? and lease_token = ? and spawn_id = ? ` +
      'and state = any(?::job_run_state[]) for no key update',
    params: [lease.runId, lease.leaseToken, spawnId, pgArray(SLOT_HOLDING_RUN_STATES)],
  };
}
