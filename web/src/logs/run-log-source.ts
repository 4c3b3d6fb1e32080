import type { Client } from '@urql/vue';
import { graphql } from '../gql';
import type { CursorSource } from '../graphql/cursor-follower';
import { urqlCursorSource } from '../graphql/urql-cursor-source';
import type { LogLine } from './log-buffer';

/** Lines per page of the log query while polling (the operation cost limit allows a few hundred). */
const POLL_PAGE_LINES = 250;

const tailSubscription = graphql(`
  subscription RunLogTail($runId: ID!, $after: Int) {
    jobRunLogs(runId: $runId, after: $after) {
      lines {
        seq
        stream
        timestamp
        text
      }
      cursor
      complete
    }
  }
`);

const pageQuery = graphql(`
  query RunLogPage($runId: ID!, $after: Int, $first: Int!) {
    jobRunLogs(runId: $runId, after: $after, first: $first) {
      lines {
        seq
        stream
        timestamp
        text
      }
      cursor
      hasMore
    }
  }
`);

/** A run's log: the cursor subscription, and the paged query for polling. */
export function runLogSource(client: () => Client, runId: string): CursorSource<LogLine, number> {
  return urqlCursorSource(client, {
    subscription: tailSubscription,
    subscriptionVariables: (after) => ({ runId, after }),
    batch: ({ jobRunLogs: { lines, cursor, complete } }) => ({ items: lines, cursor, complete }),
    query: pageQuery,
    queryVariables: (after) => ({ runId, after, first: POLL_PAGE_LINES }),
    page: ({ jobRunLogs: { lines, cursor, hasMore } }) => ({ items: lines, cursor, hasMore }),
  });
}
