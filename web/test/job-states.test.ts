import { describe, expect, it } from 'vitest';
import { isTerminal, jobTimeline, stateBadge } from '../src/workloads/job-states';

describe('job states', () => {
  it('tells finished states from unfinished ones', () => {
    expect(
      ['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'ERROR'].every((state) => isTerminal(state as never)),
    ).toBe(true);
    expect(isTerminal('CANCELLING')).toBe(false);
    expect(stateBadge('FAILED')).toBe('badge--danger');
    expect(stateBadge('RUNNING')).toBe('badge--accent');
  });

  it('builds the timeline from the job and its attempts, oldest first', () => {
    const timeline = jobTimeline({
      state: 'FAILED',
      createdAt: '2026-11-27T10:00:00Z',
      finishedAt: '2026-11-27T10:05:00Z',
      systemNote: null,
      runs: [
        {
          attempt: 2,
          state: 'FAILED',
          exitCode: 3,
          createdAt: '2026-11-27T10:03:00Z',
          startedAt: '2026-11-27T10:03:01Z',
          finishedAt: '2026-11-27T10:05:00Z',
        },
        {
          attempt: 1,
          state: 'ERROR',
          exitCode: null,
          createdAt: '2026-11-27T10:01:00Z',
          startedAt: null,
          finishedAt: '2026-11-27T10:02:00Z',
          systemNote: 'agent lost',
        },
      ],
    });
    expect(timeline.map((entry) => [entry.title, entry.detail])).toEqual([
      ['Submitted', undefined],
      ['Attempt 1 placed on a machine', undefined],
      ['Attempt 1 error', 'agent lost'],
      ['Attempt 2 placed on a machine', undefined],
      ['Attempt 2 started', undefined],
      ['Attempt 2 failed', 'exit code 3'],
      ['Job failed', undefined],
    ]);
  });
});
