import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from '../accounts/viewer.js';
import type { AgentPrincipal } from '../agents/agent-principal.js';
import { heldRunSql, type RunLease } from '../agents/run-lease.js';
import { executePrepared } from '../db/prepared.js';
import { UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import { pgArray } from '../scheduler/dispatch-rules.js';
import { RunLeaseError } from '../scheduler/run-lifecycle.service.js';
import type { JobRun } from '../workloads/job-run.entity.js';
import { TERMINAL_RUN_STATES } from '../workloads/job-state.js';
import {
  checkBatch,
  consecutiveRuns,
  prefixThrough,
  rangeOf,
  withoutStored,
  type SeqRange,
} from './log-batch.js';
import { readableRun, type RunFeeds } from './run-feeds.js';
import { tailRun, type TailBatch } from './run-tail.js';
import { LogStream } from './run-log-chunk.entity.js';

export const MAX_LOG_PAGE = 5_000;
/** A search term is at most this long (characters). */
export const MAX_LOG_SEARCH = 256;
/** Live lines reach a subscriber in batches at most this often. */
export const LIVE_FLUSH_MS = 100;
/** Lines per batch when a subscription replays what is stored, and per read of a download. */
const REPLAY_PAGE = 2_000;

export interface LogLine {
  /** From 1, per run, as the agent stamped it. */
  seq: number;
  stream: LogStream;
  timestamp: Date;
  text: string;
}

export interface LogPage {
  lines: LogLine[];
  /** The last line's seq (or the `after` asked for): pass it as `after` to continue. */
  cursor: number;
  /** More lines are stored after this page. */
  hasMore: boolean;
}

/** A line as the bus carries it (`run.log`): plain JSON. */
export interface WireLogLine {
  seq: number;
  stream: LogStream;
  /** ISO 8601. */
  timestamp: string;
  text: string;
}

/** Published on `run.log` (keyed by run) once a batch is committed. */
export interface LiveLogEvent {
  /** The lines this batch added (resent ones are left out), in seq order. */
  lines: WireLogLine[];
  /** The run's storedThrough after the batch. */
  storedThrough: number;
}

/** Runs as a viewer may see them (JobService). */
export interface RunReader {
  /** A run the viewer may see; NOT_FOUND for any other. */
  getRun(viewer: Viewer, runId: string): Promise<JobRun>;
}

export interface LogServiceDeps {
  runs: RunReader;
  pubSub: DaestroPubSub;
  /** This process's shared live feeds (subscriptions). */
  feeds: RunFeeds;
}

/** Lines after a cursor as a reader may see them, and the run's state in the same snapshot. */
interface StoredLines {
  lines: LogLine[];
  terminal: boolean;
}

const TERMINAL_STATES = pgArray(TERMINAL_RUN_STATES);
/** Lines of one live event, decoded once for every subscriber in this process. */
const decodedEvents = new WeakMap<LiveLogEvent, LogLine[]>();

/**
 * Run logs: ingest from the agent holding the run, reads by seq (paged, searched,
 * downloaded) and live streams. The one place that knows how lines are stored:
 * in chunk rows of consecutive lines (RunLogChunk), so a batch costs one row,
 * a range by seq starts with one index probe, and retention deletes by run
 * (README "Logs and metrics" has the measurements behind these choices).
 */
export class LogService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: LogServiceDeps,
  ) {}

  /**
   * Stores a batch, idempotently on (run, seq): a resent line is ignored, so an
   * agent may resend anything not acknowledged. `batch` is the agent's JSON as
   * received (the LogLineBatch scalar), checked here line by line. Returns the
   * highest seq such that every line 1..seq is stored. A refused batch (bad
   * input, or a lease the caller does not hold) stores nothing.
   */
  async append(agent: AgentPrincipal, lease: RunLease, batch: unknown): Promise<{ storedThrough: number }> {
    const lines = checkBatch(batch);
    const held = heldRunSql(agent.spawnId, lease, 'id, log_stored_through');
    const outcome = await this.em.transactional(async (em) => {
      // The run's row stays locked to the end: appends of one run are serialized, so the reads
      // below (statements of their own, hence snapshots taken after the lock) see every earlier batch.
      const [run] = await executePrepared<{ id: string; log_stored_through: number }>(
        em,
        held.sql,
        held.params,
      );
      if (!run) throw new RunLeaseError(lease.runId);
      const previous = run.log_stored_through;
      const unseen = lines.filter((line) => line.seq > previous);
      if (unseen.length === 0) return { storedThrough: previous, added: [] };
      // Chunks stored past a gap (lines that arrived before an earlier batch was resent).
      const pastGap = await executePrepared<SeqRange>(
        em,
        'select first_seq, last_seq from run_log_chunk where run_id = ? and last_seq > ? order by last_seq',
        [run.id, previous],
      );
      const added = withoutStored(unseen, pastGap);
      const chunks = consecutiveRuns(added);
      for (const chunk of chunks) {
        // Prepared, with the arrays as parameters: em.execute() would copy 4 MiB into the SQL text.
        // Text goes as JSON (JSON.stringify is native; escaping an array literal in JS cost more
        // than PostgreSQL storing the chunk); streams and ISO timestamps need no quoting at all.
        await executePrepared(
          em,
          `insert into run_log_chunk (run_id, first_seq, last_seq, streams, timestamps, texts)
           values (?, ?, ?, ?::log_stream[], ?::timestamptz[],
             array(select text from json_array_elements_text(?::json) with ordinality as line(text, n) order by n))`,
          [
            run.id,
            chunk[0]!.seq,
            chunk.at(-1)!.seq,
            `{${chunk.map((line) => line.stream).join(',')}}`,
            `{${chunk.map((line) => line.timestamp).join(',')}}`,
            JSON.stringify(chunk.map((line) => line.text)),
          ],
        );
      }
      const storedThrough = prefixThrough(previous, [...pastGap, ...chunks.map(rangeOf)]);
      await executePrepared(
        em,
        'update job_run set log_bytes = log_bytes + ?, log_stored_through = ? where id = ?',
        [added.reduce((bytes, line) => bytes + line.bytes, 0), storedThrough, run.id],
      );
      return { storedThrough, added };
    });
    if (outcome.added.length > 0) {
      // Committed: subscribers may now read these lines from storage too.
      this.deps.pubSub.publish('run.log', lease.runId, {
        lines: outcome.added.map(({ seq, stream, timestamp, text }) => ({ seq, stream, timestamp, text })),
        storedThrough: outcome.storedThrough,
      });
    }
    return { storedThrough: outcome.storedThrough };
  }

  /**
   * Lines after `after`, in seq order, optionally of one stream and containing
   * `search` (case-insensitive). While the run is unfinished only the contiguous
   * prefix (storedThrough) is visible, so a reader following the cursor never
   * skips a line that arrives late; a finished run shows everything.
   */
  async read(
    viewer: Viewer,
    runId: string,
    page: { after?: number | null; first: number; stream?: LogStream | null; search?: string | null },
  ): Promise<LogPage> {
    const after = checkCursor(page.after);
    if (!Number.isInteger(page.first) || page.first < 1 || page.first > MAX_LOG_PAGE) {
      throw UserError.badUserInput(`first is 1 to ${MAX_LOG_PAGE} lines.`, { field: 'first' });
    }
    const search = page.search || undefined;
    if (search !== undefined && search.length > MAX_LOG_SEARCH) {
      throw UserError.badUserInput(`search is at most ${MAX_LOG_SEARCH} characters.`, { field: 'search' });
    }
    const run = await this.deps.runs.getRun(viewer, runId);
    const { lines } = await this.readStored(run.id, {
      after,
      first: page.first + 1,
      stream: page.stream ?? undefined,
      search,
    });
    const shown = lines.slice(0, page.first);
    return { lines: shown, cursor: shown.at(-1)?.seq ?? after, hasMore: lines.length > page.first };
  }

  /**
   * The run's log as it grows: stored lines after `after`, then live ones, in
   * batches (see tailRun), until the run is finished and every line is delivered.
   * Access is checked here, when the subscription starts.
   */
  async stream(
    viewer: Viewer,
    runId: string,
    after?: number | null,
  ): Promise<AsyncIterable<TailBatch<LogLine>>> {
    const cursor = checkCursor(after);
    const run = await this.runForReading(viewer, runId);
    return tailRun<LogLine>({
      after: cursor,
      key: (line) => line.seq,
      gapless: true,
      flushMs: LIVE_FLUSH_MS,
      read: async (from) => {
        const page = await this.readStored(run.id, { after: from, first: REPLAY_PAGE });
        return { items: page.lines, full: page.lines.length === REPLAY_PAGE, terminal: page.terminal };
      },
      join: (listener) =>
        this.deps.feeds.join(run, 'run.log', {
          event: (event) => listener.items(decodedLines(event), event.storedThrough),
          progress: (progress) => listener.progress(progress),
        }),
    });
  }

  /**
   * Every line a reader may see now, page by page from the database (a download
   * never holds the whole log). The caller checks access first (runForReading).
   */
  async *storedLines(runId: string): AsyncGenerator<LogLine[]> {
    let after = 0;
    for (;;) {
      const { lines } = await this.readStored(runId, { after, first: REPLAY_PAGE });
      if (lines.length > 0) yield lines;
      if (lines.length < REPLAY_PAGE) return;
      after = lines.at(-1)!.seq;
    }
  }

  /** A run the viewer may read, with what a live stream needs to follow it; NOT_FOUND otherwise. */
  runForReading(viewer: Viewer, runId: string): ReturnType<typeof readableRun> {
    return readableRun(this.em, this.deps.runs, viewer, runId);
  }

  /**
   * One statement: the visible lines after `after` and the run's state, read in the same
   * snapshot. The chunks that end past `after` are ordered by the primary key, and only
   * as many are unnested as the page needs (the sort on (lastSeq, n) is incremental).
   * Without a filter every visible chunk adds at least one line, so `first` chunks are
   * enough. A run's prefix (log_stored_through) always ends at a chunk's end, so the
   * chunks it reaches are visible whole.
   */
  private async readStored(
    runId: string,
    query: { after: number; first: number; stream?: LogStream; search?: string },
  ): Promise<StoredLines> {
    const filtered = query.stream !== undefined || query.search !== undefined;
    const rows = await this.em.execute<
      { terminal: boolean; seq: number | null; stream: LogStream; logged_at: Date; text: string }[]
    >(
      `select r.terminal, line.seq, line.stream, line.logged_at, line.text
       from (select id, log_stored_through, state = any(?::job_run_state[]) as terminal from job_run where id = ?) r
       left join lateral (
         select (c.first_seq + line.n - 1)::int as seq, line.stream, line.logged_at, line.text
         from (select * from run_log_chunk c
               where c.run_id = r.id and c.last_seq > ? and (r.terminal or c.last_seq <= r.log_stored_through)
               order by c.last_seq ${filtered ? '' : 'limit ?'}) c
         cross join lateral unnest(c.streams, c.timestamps, c.texts) with ordinality as line(stream, logged_at, text, n)
         where c.first_seq + line.n - 1 > ?
           ${query.stream ? 'and line.stream = ?' : ''}
           ${query.search ? 'and strpos(lower(line.text), lower(?)) > 0' : ''}
         order by c.last_seq, line.n limit ?) line on true`,
      [
        TERMINAL_STATES,
        runId,
        query.after,
        ...(filtered ? [] : [query.first]),
        query.after,
        ...(query.stream ? [query.stream] : []),
        ...(query.search ? [query.search] : []),
        query.first,
      ],
    );
    const lines: LogLine[] = [];
    for (const row of rows) {
      if (row.seq === null) continue;
      lines.push({ seq: row.seq, stream: row.stream, timestamp: new Date(row.logged_at), text: row.text });
    }
    return { lines, terminal: rows[0]?.terminal ?? true };
  }
}

function checkCursor(after: number | null | undefined): number {
  const cursor = after ?? 0;
  if (!Number.isInteger(cursor) || cursor < 0) {
    throw UserError.badUserInput('after is a line sequence number: 0 or more.', { field: 'after' });
  }
  return cursor;
}

function decodedLines(event: LiveLogEvent): LogLine[] {
  let lines = decodedEvents.get(event);
  if (!lines) {
    lines = event.lines.map((line) => ({ ...line, timestamp: new Date(line.timestamp) }));
    decodedEvents.set(event, lines);
  }
  return lines;
}
