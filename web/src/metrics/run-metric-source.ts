import type { Client } from '@urql/vue';
import { graphql } from '../gql';
import type { CursorSource } from '../graphql/cursor-follower';
import { urqlCursorSource } from '../graphql/urql-cursor-source';
import type { MetricSample } from './metric-series';

/** Samples per page of the metrics query while polling. */
const POLL_PAGE_SAMPLES = 1000;

const tailSubscription = graphql(`
  subscription RunMetricsTail($runId: ID!, $after: DateTimeISO) {
    jobRunMetrics(runId: $runId, after: $after) {
      samples {
        timestamp
        cpuPercent
        memoryBytes
        memoryLimitBytes
      }
      cursor
      complete
    }
  }
`);

const pageQuery = graphql(`
  query RunMetricsPage($runId: ID!, $from: DateTimeISO, $first: Int!) {
    jobRunMetrics(runId: $runId, from: $from, first: $first) {
      timestamp
      cpuPercent
      memoryBytes
      memoryLimitBytes
    }
  }
`);

/** A run's CPU and memory samples: the cursor subscription, and the query for polling. */
export function runMetricSource(client: () => Client, runId: string): CursorSource<MetricSample, string> {
  return urqlCursorSource(client, {
    subscription: tailSubscription,
    subscriptionVariables: (after) => ({ runId, after }),
    batch: ({ jobRunMetrics: { samples, cursor, complete } }) => ({
      items: samples,
      cursor: cursor ?? null,
      complete,
    }),
    query: pageQuery,
    // `from` is inclusive: the sample at the cursor comes again, and the series drops it.
    queryVariables: (after) => ({ runId, from: after, first: POLL_PAGE_SAMPLES }),
    page: ({ jobRunMetrics: samples }, after) => ({
      items: samples,
      cursor: samples.at(-1)?.timestamp ?? after,
      hasMore: samples.length === POLL_PAGE_SAMPLES,
    }),
  });
}
