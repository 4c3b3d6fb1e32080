import { describe, expect, it } from 'vitest';
import { hasAttemptsLeft, isRetryable, retryDelayMs } from '../../src/scheduler/retry.js';
import { BackoffKind } from '../../src/workloads/job-definition.entity.js';
import { FailureClass } from '../../src/workloads/job-state.js';
import { retryPolicy } from './fixtures.js';

describe('isRetryable', () => {
  it('retries only the failure classes the policy lists', () => {
    const policy = retryPolicy({ retryOn: [FailureClass.INFRA_FAILURE] });
    expect(isRetryable(policy, { failureClass: FailureClass.INFRA_FAILURE })).toBe(true);
    expect(isRetryable(policy, { failureClass: FailureClass.APP_FAILURE, exitCode: 1 })).toBe(false);
    expect(isRetryable(policy, { failureClass: FailureClass.TIMEOUT })).toBe(false);
  });

  it('retries any exit code of an APP_FAILURE when no exit codes are listed', () => {
    const policy = retryPolicy({ retryOn: [FailureClass.APP_FAILURE], exitCodes: [] });
    for (const exitCode of [1, 2, 137, 255]) {
      expect(isRetryable(policy, { failureClass: FailureClass.APP_FAILURE, exitCode })).toBe(true);
    }
  });

  it('with listed exit codes, retries an APP_FAILURE only for those', () => {
    const policy = retryPolicy({
      retryOn: [FailureClass.APP_FAILURE, FailureClass.TIMEOUT],
      exitCodes: [3, 75],
    });
    expect(isRetryable(policy, { failureClass: FailureClass.APP_FAILURE, exitCode: 75 })).toBe(true);
    expect(isRetryable(policy, { failureClass: FailureClass.APP_FAILURE, exitCode: 3 })).toBe(true);
    expect(isRetryable(policy, { failureClass: FailureClass.APP_FAILURE, exitCode: 1 })).toBe(false);
    expect(isRetryable(policy, { failureClass: FailureClass.APP_FAILURE, exitCode: null })).toBe(false);
    // The filter is about exit codes: other classes ignore it.
    expect(isRetryable(policy, { failureClass: FailureClass.TIMEOUT })).toBe(true);
  });
});

describe('hasAttemptsLeft', () => {
  it('counts the first attempt: attempts 3 allows two retries', () => {
    const policy = retryPolicy({ attempts: 3 });
    expect([1, 2, 3, 4].map((made) => hasAttemptsLeft(policy, made))).toEqual([true, true, false, false]);
    expect(hasAttemptsLeft(retryPolicy({ attempts: 1 }), 1)).toBe(false);
  });
});

describe('retryDelayMs', () => {
  it('FIXED waits the base delay after every attempt', () => {
    const policy = retryPolicy({ backoff: BackoffKind.FIXED, baseSeconds: 7, capSeconds: 7 });
    expect([1, 2, 5].map((attempt) => retryDelayMs(policy, attempt))).toEqual([7000, 7000, 7000]);
  });

  it('EXPONENTIAL doubles from the base per attempt, up to the cap', () => {
    const policy = retryPolicy({ backoff: BackoffKind.EXPONENTIAL, baseSeconds: 10, capSeconds: 60 });
    expect([1, 2, 3, 4, 5, 10].map((attempt) => retryDelayMs(policy, attempt))).toEqual([
      10_000, 20_000, 40_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('with jitter spreads the delay uniformly over [0.5, 1] of it', () => {
    const policy = retryPolicy({
      backoff: BackoffKind.EXPONENTIAL,
      baseSeconds: 4,
      capSeconds: 100,
      jitter: true,
    });
    expect(retryDelayMs(policy, 3, () => 0)).toBe(8_000);
    expect(retryDelayMs(policy, 3, () => 0.5)).toBe(12_000);
    expect(retryDelayMs(policy, 3, () => 0.999_999)).toBe(16_000);
    const delays = Array.from({ length: 2_000 }, () => retryDelayMs(policy, 3));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(8_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(16_000);
    // Spread, not clumped: both halves of the range are used.
    expect(delays.filter((delay) => delay < 12_000).length).toBeGreaterThan(600);
    expect(delays.filter((delay) => delay >= 12_000).length).toBeGreaterThan(600);
  });
});
