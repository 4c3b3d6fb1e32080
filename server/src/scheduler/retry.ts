import { BackoffKind, type RetryPolicy } from '../workloads/job-definition.entity.js';
import { FailureClass } from '../workloads/job-state.js';

/** Why an attempt ended badly, as the retry policy sees it. */
export interface AttemptFailure {
  failureClass: FailureClass;
  /** The process's exit code, when it exited (APP_FAILURE). */
  exitCode?: number | null;
}

/**
 * Whether the policy retries this kind of failure: its class is listed, and for
 * APP_FAILURE the exit code is in `exitCodes` (an empty list retries any exit code).
 */
export function isRetryable(policy: RetryPolicy, failure: AttemptFailure): boolean {
  if (!policy.retryOn.includes(failure.failureClass)) return false;
  if (failure.failureClass !== FailureClass.APP_FAILURE || policy.exitCodes.length === 0) return true;
  return failure.exitCode != null && policy.exitCodes.includes(failure.exitCode);
}

/** Whether another attempt follows `attemptsMade` failed ones (policy.attempts counts the first). */
export function hasAttemptsLeft(policy: RetryPolicy, attemptsMade: number): boolean {
  return attemptsMade < policy.attempts;
}

/**
 * Milliseconds to wait after failed attempt `attempt` (1-based) before the next one.
 * FIXED waits baseSeconds; EXPONENTIAL waits baseSeconds·2^(attempt−1), capped at
 * capSeconds. With jitter the delay is spread uniformly over [0.5, 1]·delay, so
 * many jobs failing together do not retry together. `random` returns [0, 1).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const baseMs = policy.baseSeconds * 1000;
  const delayMs =
    policy.backoff === BackoffKind.FIXED
      ? baseMs
      : Math.min(baseMs * 2 ** Math.max(0, attempt - 1), policy.capSeconds * 1000);
  return Math.round(policy.jitter ? delayMs * (0.5 + 0.5 * random()) : delayMs);
}
