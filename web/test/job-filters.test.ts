import { describe, expect, it } from 'vitest';
import {
  EMPTY_VIEW,
  isFiltered,
  jobFilterOf,
  jobListQuery,
  parseJobListQuery,
  withFilter,
} from '../src/workloads/job-filters';

describe('the jobs list URL', () => {
  it('reads states, queue, definition, name, time range and cursor', () => {
    const view = parseJobListQuery({
      state: 'failed,ERROR',
      queue: 'q-1',
      definition: 'nightly',
      q: ' report ',
      from: '2026-11-01T10:00:00.000Z',
      to: '2026-11-02T00:00:00Z',
      after: 'abc',
    });
    expect(view).toEqual({
      states: ['FAILED', 'ERROR'],
      queueId: 'q-1',
      definitionName: 'nightly',
      text: 'report',
      createdAfter: '2026-11-01T10:00:00.000Z',
      createdBefore: '2026-11-02T00:00:00.000Z',
      after: 'abc',
    });
  });

  it('drops unknown states and unreadable times, and takes repeated states in list order', () => {
    const view = parseJobListQuery({
      state: ['RUNNING', 'BOGUS', 'PENDING,RUNNING'],
      from: 'yesterday',
      to: [null],
    });
    expect(view.states).toEqual(['PENDING', 'RUNNING']);
    expect(view.createdAfter).toBe('');
    expect(view.createdBefore).toBe('');
  });

  it('writes only what is set, and reads back what it wrote', () => {
    expect(jobListQuery(EMPTY_VIEW)).toEqual({});
    const view = { ...EMPTY_VIEW, states: ['RUNNING' as const, 'FAILED' as const], text: 'etl', after: 'c2' };
    const query = jobListQuery(view);
    expect(query).toEqual({ state: 'RUNNING,FAILED', q: 'etl', after: 'c2' });
    expect(parseJobListQuery(query)).toEqual({ ...view, states: ['RUNNING', 'FAILED'] });
  });

  it('starts again from the newest jobs when a filter changes', () => {
    const paged = { ...EMPTY_VIEW, after: 'cursor-3' };
    expect(withFilter(paged, { queueId: 'q-2' })).toEqual({ ...EMPTY_VIEW, queueId: 'q-2' });
  });

  it('turns the view into the jobs query filter, leaving out what is not set', () => {
    expect(jobFilterOf(EMPTY_VIEW)).toEqual({});
    expect(
      jobFilterOf({
        ...EMPTY_VIEW,
        states: ['PENDING'],
        definitionName: 'etl',
        text: '  x ',
        createdAfter: '2026-01-01T00:00:00.000Z',
      }),
    ).toEqual({
      states: ['PENDING'],
      definitionName: 'etl',
      text: 'x',
      createdAfter: '2026-01-01T00:00:00.000Z',
    });
  });

  it('knows whether anything narrows the list (the page cursor does not)', () => {
    expect(isFiltered({ ...EMPTY_VIEW, after: 'c' })).toBe(false);
    expect(isFiltered({ ...EMPTY_VIEW, states: ['FAILED'] })).toBe(true);
  });
});
