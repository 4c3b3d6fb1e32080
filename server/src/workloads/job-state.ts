import { registerEnumType } from 'type-graphql';

/** A job's life (DESIGN.md §2). PENDING waits on time, a queue or a limit; RUNNABLE waits for a slot. */
export enum JobState {
  SUBMITTED = 'SUBMITTED',
  PENDING = 'PENDING',
  RUNNABLE = 'RUNNABLE',
  STARTING = 'STARTING',
  RUNNING = 'RUNNING',
  CANCELLING = 'CANCELLING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  TIMEOUT = 'TIMEOUT',
  CANCELLED = 'CANCELLED',
  ERROR = 'ERROR',
}
registerEnumType(JobState, {
  name: 'JobState',
  description:
    'SUBMITTED → PENDING → RUNNABLE → STARTING → RUNNING → COMPLETED | FAILED | TIMEOUT, plus CANCELLING → CANCELLED ' +
    'and ERROR (a platform fault such as a lost agent; see systemNote). PENDING waits for its time, its queue or a ' +
    'concurrency limit (or a retry backoff); RUNNABLE waits for a free slot.',
});

/** One attempt's life on a compute spawn. */
export enum JobRunState {
  STARTING = 'STARTING',
  RUNNING = 'RUNNING',
  CANCELLING = 'CANCELLING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  TIMEOUT = 'TIMEOUT',
  CANCELLED = 'CANCELLED',
  ERROR = 'ERROR',
}
registerEnumType(JobRunState, { name: 'JobRunState', description: 'The state of one attempt of a job.' });

/** Why an attempt did not complete; a retry policy chooses which classes to retry. */
export enum FailureClass {
  /** The job's own code exited non-zero. */
  APP_FAILURE = 'APP_FAILURE',
  /** The platform failed it: lost agent, image pull, provisioning. */
  INFRA_FAILURE = 'INFRA_FAILURE',
  TIMEOUT = 'TIMEOUT',
}
registerEnumType(FailureClass, { name: 'FailureClass' });

export const TERMINAL_JOB_STATES: readonly JobState[] = [
  JobState.COMPLETED,
  JobState.FAILED,
  JobState.TIMEOUT,
  JobState.CANCELLED,
  JobState.ERROR,
];

export const TERMINAL_RUN_STATES: readonly JobRunState[] = [
  JobRunState.COMPLETED,
  JobRunState.FAILED,
  JobRunState.TIMEOUT,
  JobRunState.CANCELLED,
  JobRunState.ERROR,
];

/**
 * Every legal job transition. A retry sends a finished attempt's job back to
 * PENDING (waiting for its backoff); a job with no run yet cancels straight to CANCELLED.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  [JobState.SUBMITTED]: [JobState.PENDING, JobState.RUNNABLE, JobState.CANCELLED],
  [JobState.PENDING]: [JobState.RUNNABLE, JobState.CANCELLED],
  [JobState.RUNNABLE]: [JobState.PENDING, JobState.STARTING, JobState.CANCELLED],
  [JobState.STARTING]: [
    JobState.RUNNING,
    JobState.CANCELLING,
    JobState.FAILED,
    JobState.ERROR,
    JobState.TIMEOUT,
    JobState.PENDING,
  ],
  [JobState.RUNNING]: [
    JobState.COMPLETED,
    JobState.FAILED,
    JobState.TIMEOUT,
    JobState.ERROR,
    JobState.CANCELLING,
    JobState.PENDING,
  ],
  [JobState.CANCELLING]: [JobState.CANCELLED],
  [JobState.COMPLETED]: [],
  [JobState.FAILED]: [],
  [JobState.TIMEOUT]: [],
  [JobState.CANCELLED]: [],
  [JobState.ERROR]: [],
};

export function isTerminal(state: JobState): boolean {
  return TERMINAL_JOB_STATES.includes(state);
}

export function canTransition(from: JobState, to: JobState): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}
