import { describe, expect, it } from 'vitest';
import {
  ADMITTED_STATES,
  NO_USAGE,
  addUsage,
  countInStates,
  failureReason,
  heartbeatAge,
  usageRows,
} from '../src/overview/overview';

const LIMITS = {
  concurrentRuns: 10,
  computeSpawns: 2,
  cloudAuths: 1,
  registryAuths: 1,
  cronSchedules: 1,
  logStorageMiB: 500,
  members: 3,
};

describe('the overview', () => {
  it('counts admitted jobs as the scheduler does for the concurrent-run limit', () => {
    const counts = [
      { state: 'PENDING' as const, count: 5 },
      { state: 'RUNNABLE' as const, count: 2 },
      { state: 'RUNNING' as const, count: 3 },
      { state: 'CANCELLING' as const, count: 1 },
      { state: 'FAILED' as const, count: 9 },
    ];
    expect(countInStates(counts, ADMITTED_STATES)).toBe(6);
  });

  it('sums the projects’ usage and sets it against the plan, flagging what is near or at its limit', () => {
    const usage = addUsage(addUsage(NO_USAGE, { ...NO_USAGE, concurrentRuns: 3, computeSpawns: 1 }), {
      ...NO_USAGE,
      concurrentRuns: 5,
      computeSpawns: 1,
      cronSchedules: 1,
    });
    const rows = usageRows(LIMITS, usage, 1, 450 * 1024 * 1024);
    const byLabel = Object.fromEntries(rows.map((row) => [row.label, row]));
    expect(byLabel['Concurrent runs']).toMatchObject({ used: 8, limit: 10, level: 'high' });
    expect(byLabel['Machines (agents and VMs)']).toMatchObject({ used: 2, level: 'full' });
    expect(byLabel['Cron schedules']).toMatchObject({ used: 1, level: 'full' });
    expect(byLabel['Members']).toMatchObject({ used: 1, limit: 3, level: 'ok' });
    expect(byLabel['Log storage']).toMatchObject({
      usedText: '450 MiB',
      limitText: '500 MiB',
      level: 'high',
    });
  });

  it('says why a job failed: the platform’s note first, else the exit code', () => {
    expect(failureReason({ state: 'FAILED', runs: [{ exitCode: 3 }] })).toBe('Exited with code 3');
    expect(
      failureReason({ state: 'ERROR', systemNote: 'The agent was lost.', runs: [{ exitCode: null }] }),
    ).toBe('The agent was lost.');
    expect(failureReason({ state: 'ERROR', runs: [{ systemNote: 'Image pull failed: not found' }] })).toBe(
      'Image pull failed: not found',
    );
    expect(failureReason({ state: 'TIMEOUT', runs: [{ exitCode: 143 }] })).toBe('Timed out');
    expect(failureReason({ state: 'ERROR', runs: [] })).toBe('Failed on the platform');
  });

  it('tells how old a machine’s last heartbeat is', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    expect(heartbeatAge(null, now)).toBe('no heartbeat yet');
    expect(heartbeatAge('2026-11-27T11:59:55Z', now)).toBe('heartbeat 5 s ago');
    expect(heartbeatAge('2026-11-27T11:50:00Z', now)).toBe('heartbeat 10 min ago');
    expect(heartbeatAge('2026-11-27T09:00:00Z', now)).toBe('heartbeat 3 h ago');
  });
});
