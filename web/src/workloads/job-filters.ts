// The jobs list's filters and page, kept in the URL query so a filtered view can be bookmarked,
// shared and restored with the back button. Pure: tested in web/test/job-filters.test.ts.
import type { JobFilter, JobState } from '../gql/graphql';
import { JOB_STATES } from './job-states';

export interface JobListView {
  states: JobState[];
  queueId: string;
  definitionName: string;
  /** Part of the job name. */
  text: string;
  /** ISO date-times, or '' for open ends. */
  createdAfter: string;
  createdBefore: string;
  /** The cursor the page starts after; '' for the newest jobs. */
  after: string;
}

/** A URL query as vue-router gives it. */
export type UrlQuery = Record<string, string | null | (string | null)[] | undefined>;

export const EMPTY_VIEW: JobListView = {
  states: [],
  queueId: '',
  definitionName: '',
  text: '',
  createdAfter: '',
  createdBefore: '',
  after: '',
};

function first(value: UrlQuery[string]): string {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' ? text.trim() : '';
}

function isoOrEmpty(value: string): string {
  if (!value) return '';
  const time = Date.parse(value);
  return Number.isNaN(time) ? '' : new Date(time).toISOString();
}

/** Reads `?state=FAILED,ERROR&queue=…&definition=…&q=…&from=…&to=…&after=…`; unknown values are dropped. */
export function parseJobListQuery(query: UrlQuery): JobListView {
  const rawStates = ([] as (string | null)[]).concat(query.state ?? []);
  const known = new Set<string>(JOB_STATES);
  const states = [
    ...new Set(
      rawStates
        .flatMap((value) => (value ?? '').split(','))
        .map((state) => state.trim().toUpperCase())
        .filter((state) => known.has(state)),
    ),
  ] as JobState[];
  return {
    states: JOB_STATES.filter((state) => states.includes(state)),
    queueId: first(query.queue),
    definitionName: first(query.definition),
    text: first(query.q),
    createdAfter: isoOrEmpty(first(query.from)),
    createdBefore: isoOrEmpty(first(query.to)),
    after: first(query.after),
  };
}

/** The URL query of a view, without empty entries (so the plain list is plain `/jobs`). */
export function jobListQuery(view: JobListView): Record<string, string> {
  const entries: [string, string][] = [
    ['state', view.states.join(',')],
    ['queue', view.queueId],
    ['definition', view.definitionName],
    ['q', view.text.trim()],
    ['from', view.createdAfter],
    ['to', view.createdBefore],
    ['after', view.after],
  ];
  return Object.fromEntries(entries.filter(([, value]) => value !== ''));
}

/** The `filter` argument of the `jobs` query. */
export function jobFilterOf(view: JobListView): JobFilter {
  const filter: JobFilter = {};
  if (view.states.length > 0) filter.states = view.states;
  if (view.queueId) filter.queueId = view.queueId;
  if (view.definitionName) filter.definitionName = view.definitionName;
  if (view.text.trim()) filter.text = view.text.trim();
  if (view.createdAfter) filter.createdAfter = view.createdAfter;
  if (view.createdBefore) filter.createdBefore = view.createdBefore;
  return filter;
}

/** A changed filter starts again from the newest jobs: an old cursor belongs to another list. */
export function withFilter(view: JobListView, change: Partial<Omit<JobListView, 'after'>>): JobListView {
  return { ...view, ...change, after: '' };
}

/** Something narrows the list (the page cursor aside). */
export function isFiltered(view: JobListView): boolean {
  return Object.keys(jobListQuery({ ...view, after: '' })).length > 0;
}
