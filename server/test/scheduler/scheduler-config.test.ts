import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('scheduler settings', () => {
  it('default to a 1 s sweep and leader retry, a 30 s agent lease, claim grace and timeout grace', () => {
    expect(loadConfig({}).scheduler).toEqual({
      sweepMs: 1_000,
      leaderRetryMs: 1_000,
      agentLeaseSeconds: 30,
      agentClaimGraceSeconds: 30,
      timeoutGraceSeconds: 30,
    });
  });

  it('are read from the environment', () => {
    const { scheduler } = loadConfig({
      SCHEDULER_SWEEP_MS: '250',
      SCHEDULER_LEADER_RETRY_MS: '500',
      AGENT_LEASE_SECONDS: '3',
      AGENT_CLAIM_GRACE_SECONDS: '4',
      RUN_TIMEOUT_GRACE_SECONDS: '5',
    });
    expect(scheduler).toEqual({
      sweepMs: 250,
      leaderRetryMs: 500,
      agentLeaseSeconds: 3,
      agentClaimGraceSeconds: 4,
      timeoutGraceSeconds: 5,
    });
  });

  it('refuse values that are not positive whole numbers', () => {
    expect(() => loadConfig({ AGENT_LEASE_SECONDS: '0', SCHEDULER_SWEEP_MS: 'fast' })).toThrow(ConfigError);
    expect(() => loadConfig({ AGENT_LEASE_SECONDS: '0' })).toThrow(
      /AGENT_LEASE_SECONDS must be a positive whole number/,
    );
  });
});
