export interface BackoffPolicy {
  /** The first retry's delay, before jitter. */
  initialMs: number;
  /** No delay grows past this. */
  maxMs: number;
}

/**
 * Exponential backoff with jitter: attempt n (from 0) waits a uniformly random
 * time in [½, 1] × min(max, initial·2ⁿ), so agents cut off together do not all
 * come back in the same instant.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
