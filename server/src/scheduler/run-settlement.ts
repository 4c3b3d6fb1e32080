import type { EntityManager } from '@mikro-orm/postgresql';
import type { RetryPolicy } from '../workloads/job-definition.entity.js';
import { canTransition, FailureClass, JobRunState, JobState } from '../workloads/job-state.js';
import type { JobEvent, JobTransitionPatch, JobTransitions } from '../workloads/job-transitions.js';
import { hasAttemptsLeft, isRetryable, retryDelayMs } from './retry.js';

/** How an attempt ended. */
export type RunOutcome =
  | JobRunState.COMPLETED
  | JobRunState.FAILED
  | JobRunState.TIMEOUT
  | JobRunState.CANCELLED
  | JobRunState.ERROR;

export const RUN_OUTCOMES: readonly RunOutcome[] = [
  JobRunState.COMPLETED,
  JobRunState.FAILED,
  JobRunState.TIMEOUT,
  JobRunState.CANCELLED,
  JobRunState.ERROR,
];

/** A run whose final state was just written (by its agent, the timeout backstop or lost-spawn detection). */
export interface FinishedRun {
  runId: string;
  jobId: string;
  outcome: RunOutcome;
  failureClass: FailureClass | null;
  exitCode: number | null;
  systemNote: string | null;
}

/** A run row a guarded UPDATE just finished, as `returning ${FINISHED_RUN_COLUMNS}` reads it (alias `r`). */
export interface FinishedRunRow {
  id: string;
  job_id: string;
  state: RunOutcome;
  failure_class: FailureClass | null;
  exit_code: number | null;
  system_note: string | null;
}

export const FINISHED_RUN_COLUMNS = 'r.id, r.job_id, r.state, r.failure_class, r.exit_code, r.system_note';

/**
 * Settles the jobs of runs this transaction just finished, one by one, each
 * job's row locked first (after its run's, the order every path takes).
 */
export async function settleFinishedRuns(
  em: EntityManager,
  transitions: JobTransitions,
  rows: readonly FinishedRunRow[],
  random?: () => number,
): Promise<void> {
  for (const row of rows) {
    const job = await lockJobForSettlement(em, row.job_id);
    if (!job) continue;
    const run = {
      runId: row.id,
      jobId: row.job_id,
      outcome: row.state,
      failureClass: row.failure_class,
      exitCode: row.exit_code,
      systemNote: row.system_note,
    };
    await settleJob(transitions, run, job, random);
  }
}

/** The failure class an outcome implies when the reporter names none. */
export function defaultFailureClass(outcome: RunOutcome): FailureClass | null {
  switch (outcome) {
    case JobRunState.FAILED:
      return FailureClass.APP_FAILURE;
    case JobRunState.TIMEOUT:
      return FailureClass.TIMEOUT;
    case JobRunState.ERROR:
    case JobRunState.CANCELLED: // only meaningful when the job was cancelling; otherwise the platform stopped it
      return FailureClass.INFRA_FAILURE;
    case JobRunState.COMPLETED:
      return null;
  }
}

const TERMINAL_STATE_OF: Record<Exclude<RunOutcome, JobRunState.CANCELLED>, JobState> = {
  [JobRunState.COMPLETED]: JobState.COMPLETED,
  [JobRunState.FAILED]: JobState.FAILED,
  [JobRunState.TIMEOUT]: JobState.TIMEOUT,
  [JobRunState.ERROR]: JobState.ERROR,
};

/** What settling a job reads of it (and its definition), from `job j` joined with `job_definition d`. */
export interface SettlingJob {
  state: JobState;
  attempts: number;
  retry_policy: RetryPolicy;
}

export const SETTLING_JOB_COLUMNS = 'j.state, j.attempts, d.retry_policy';

/** The job's settling columns, its row locked until the transaction ends (a cancel then waits). */
export async function lockJobForSettlement(
  em: EntityManager,
  jobId: string,
): Promise<SettlingJob | undefined> {
  const [job] = await em.execute<SettlingJob[]>(
    `select ${SETTLING_JOB_COLUMNS} from job j join job_definition d on d.id = j.definition_id
     where j.id = ? for update of j`,
    [jobId],
  );
  return job;
}

/**
 * Moves the job of a finished run on: CANCELLING → CANCELLED; a retryable
 * failure with attempts left → PENDING until the backoff ends; otherwise the
 * terminal state matching the run. `job` was read with its row locked (see
 * lockJobForSettlement), so a cancel arriving meanwhile waits and then finds
 * the job settled.
 */
export async function settleJob(
  transitions: JobTransitions,
  run: FinishedRun,
  job: SettlingJob,
  random: () => number = Math.random,
): Promise<JobEvent | null> {
  const finishedAt = new Date();
  if (job.state === JobState.CANCELLING) {
    return transitions.move(run.jobId, JobState.CANCELLING, JobState.CANCELLED, { finishedAt });
  }
  // A run has one finisher (its guarded UPDATE), so the job is normally still running here.
  if (job.state !== JobState.STARTING && job.state !== JobState.RUNNING) return null;
  const move = async (to: JobState, patch: JobTransitionPatch) => {
    // A run can finish before its agent reported it running (a quick job, a failed start).
    if (job.state === JobState.STARTING && !canTransition(JobState.STARTING, to)) {
      await transitions.move(run.jobId, JobState.STARTING, JobState.RUNNING);
      job.state = JobState.RUNNING;
    }
    return transitions.move(run.jobId, job.state, to, patch);
  };
  if (run.outcome === JobRunState.COMPLETED) return move(JobState.COMPLETED, { finishedAt });

  const failureClass = run.failureClass ?? defaultFailureClass(run.outcome) ?? FailureClass.INFRA_FAILURE;
  const policy = job.retry_policy;
  const attempt = `Attempt ${job.attempts} of ${policy.attempts} ${describeFailure(run, failureClass)}`;
  if (
    isRetryable(policy, { failureClass, exitCode: run.exitCode }) &&
    hasAttemptsLeft(policy, job.attempts)
  ) {
    const retryAt = new Date(finishedAt.getTime() + retryDelayMs(policy, job.attempts, random));
    return move(JobState.PENDING, {
      retryAt,
      systemNote: `${attempt}; retrying at ${retryAt.toISOString()}.`,
    });
  }
  // A run the agent cancelled without being asked to is a platform fault.
  const terminal = run.outcome === JobRunState.CANCELLED ? JobState.ERROR : TERMINAL_STATE_OF[run.outcome];
  return move(terminal, { finishedAt, systemNote: `${attempt}.` });
}

function describeFailure(run: FinishedRun, failureClass: FailureClass): string {
  const note = run.systemNote ? `: ${run.systemNote}` : '';
  switch (failureClass) {
    case FailureClass.APP_FAILURE:
      return run.exitCode == null ? `failed${note}` : `exited with code ${run.exitCode}${note}`;
    case FailureClass.TIMEOUT:
      return `timed out${note}`;
    case FailureClass.INFRA_FAILURE:
      return `failed on the platform${note}`;
  }
}
