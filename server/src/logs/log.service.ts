import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from '../accounts/viewer.js';
import type { AgentPrincipal } from '../agents/agent-principal.js';
import { heldRunSql, type RunLease } from '../agents/run-lease.js';
import { pgArrayLiteral } from '../db/pg-array.js';
import { executePrepared } from '../db/prepared.js';
import { UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import { pgArray } from '../scheduler/dispatch-rules.js';
import { RunLeaseError } from '../scheduler/run-lifecycle.service.js';
import type { JobRun } from '../workloads/job-run.entity.js';
import { TERMINAL_RUN_STATES } from '../workloads/job-state.js';
import { readableRun, type RunFeeds } from './run-feeds.js';
import { tailRun, type TailBatch } from './run-tail.js';
import { LogStream } from './run-log-line.entity.js';

/** What one appendRunLogs batch may hold (the agent truncates longer lines itself). */
export const LOG_BATCH_LIMITS = {
  lines: 2_000,
  bytes: 4 * 1024 * 1024,
  lineBytes: 16 * 1024,
} as const;

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

const STREAMS = new Set<string>(Object.values(LogStream));
const TERMINAL_STATES = pgArray(TERMINAL_RUN_STATES);
/** Lines of one live event, decoded once for every subscriber in this process. */
const decodedEvents = new WeakMap<LiveLogEvent, LogLine[]>();

/**
 * Run logs: ingest from the agent holding the run, reads by seq (paged, searched,
 * downloaded) and live streams. The one place that knows how lines are stored:
 * one row per line keyed by (run, seq), so a range by seq is an index range,
 * ingest is one INSERT … SELECT FROM unnest per batch, and retention deletes by
 * run (README "Logs and metrics" has the measurements behind these choices).
 */
export class LogService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: LogServiceDeps,
  ) {}

  /**
   * Stores a batch in one statement, idempotently on (run, seq): a resent line
   * is ignored, so an agent may resend anything not acknowledged. Returns the
   * highest seq such that every line 1..seq is stored. A refused batch (bad
   * input, or a lease the caller does not hold) stores nothing.
   */
  async append(
    agent: AgentPrincipal,
    lease: RunLease,
    lines: readonly LogLine[],
  ): Promise<{ storedThrough: number }> {
    checkBatch(lines);
    const held = heldRunSql(agent.spawnId, lease, 'id, log_stored_through');
    const stored = lines.map((line) => ({ ...line, text: storableText(line.text) }));
    const outcome = await this.em.transactional(async (em) => {
      // The run's row stays locked to the end: appends of one run are serialized, so the insert
      // below (its own statement, hence a snapshot taken after the lock) sees every earlier batch.
      const [run] = await executePrepared<{ id: string; log_stored_through: number }>(
        em,
        held.sql,
        held.params,
      );
      if (!run) throw new RunLeaseError(lease.runId);
      // Lines up to storedThrough are stored; past it only when lines past a gap were. Unless so,
      // a plain INSERT suffices: ON CONFLICT's speculative insertion costs ~40% more per line.
      // Prepared, with the arrays as parameters: em.execute() would copy 4 MiB into the SQL text.
      const [batch] = await executePrepared<{ inserted: number[]; inserted_bytes: string }>(
        em,
        `with past_gap as (select exists (select 1 from run_log_line where run_id = ? and seq > ?) as stored),
         stored as (
           insert into run_log_line (run_id, seq, stream, logged_at, text)
           select ?, line.seq, line.stream, line.logged_at, line.text
           from unnest(?::int[], ?::log_stream[], ?::timestamptz[], ?::text[]) as line(seq, stream, logged_at, text)
           where line.seq > ? and (not (select stored from past_gap)
             or not exists (select 1 from run_log_line kept where kept.run_id = ? and kept.seq = line.seq))
           returning seq, octet_length(text) as bytes)
         select coalesce(array_agg(seq), '{}') as inserted, coalesce(sum(bytes), 0) as inserted_bytes from stored`,
        [
          run.id,
          run.log_stored_through,
          run.id,
          pgArrayLiteral(stored.map((line) => line.seq)),
          pgArrayLiteral(stored.map((line) => line.stream)),
          pgArrayLiteral(stored.map((line) => line.timestamp)),
          pgArrayLiteral(stored.map((line) => line.text)),
          run.log_stored_through,
          run.id,
        ],
      );
      const previous = run.log_stored_through;
      if (batch!.inserted.length === 0) return { storedThrough: previous, inserted: new Set<number>() };
      // The prefix grows through this batch's own lines first, then through any stored earlier past a gap.
      const seqs = new Set(lines.map((line) => line.seq));
      let through = previous;
      while (seqs.has(through + 1)) through += 1;
      const [advanced] = await executePrepared<{ log_stored_through: number }>(
        em,
        `update job_run r set log_bytes = log_bytes + ?, log_stored_through = case
           when not exists (select 1 from run_log_line next where next.run_id = r.id and next.seq = ?::int + 1) then ?
           else (select min(line.seq) from run_log_line line
                 where line.run_id = r.id and line.seq > ?
                   and not exists (select 1 from run_log_line next where next.run_id = r.id and next.seq = line.seq + 1))
           end
         where r.id = ?
         returning r.log_stored_through`,
        [batch!.inserted_bytes, through, through, through, run.id],
      );
      return { storedThrough: advanced!.log_stored_through, inserted: new Set(batch!.inserted) };
    });
    if (outcome.inserted.size > 0) {
      // Committed: subscribers may now read these lines from storage too.
      this.deps.pubSub.publish('run.log', lease.runId, {
        lines: stored
          .filter((line) => outcome.inserted.has(line.seq))
          .sort((a, b) => a.seq - b.seq)
          .map(toWireLine),
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

  /** One statement: the visible lines after `after` and the run's state, read in the same snapshot. */
  private async readStored(
    runId: string,
    query: { after: number; first: number; stream?: LogStream; search?: string },
  ): Promise<StoredLines> {
    const rows = await this.em.execute<
      { terminal: boolean; seq: number | null; stream: LogStream; logged_at: Date; text: string }[]
    >(
      `select r.state = any(?::job_run_state[]) as terminal, line.seq, line.stream, line.logged_at, line.text
       from job_run r left join lateral (
         select seq, stream, logged_at, text from run_log_line
         where run_id = r.id and seq > ?
           and (r.state = any(?::job_run_state[]) or seq <= r.log_stored_through)
           ${query.stream ? 'and stream = ?' : ''}
           ${query.search ? 'and strpos(lower(text), lower(?)) > 0' : ''}
         order by seq limit ?) line on true
       where r.id = ?`,
      [
        TERMINAL_STATES,
        query.after,
        TERMINAL_STATES,
        ...(query.stream ? [query.stream] : []),
        ...(query.search ? [query.search] : []),
        query.first,
        runId,
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

function toWireLine(line: LogLine): WireLogLine {
  return { seq: line.seq, stream: line.stream, timestamp: line.timestamp.toISOString(), text: line.text };
}

function decodedLines(event: LiveLogEvent): LogLine[] {
  let lines = decodedEvents.get(event);
  if (!lines) {
    lines = event.lines.map((line) => ({ ...line, timestamp: new Date(line.timestamp) }));
    decodedEvents.set(event, lines);
  }
  return lines;
}

/** Refuses the whole batch on the first problem, naming the line. */
function checkBatch(lines: readonly LogLine[]): void {
  if (lines.length > LOG_BATCH_LIMITS.lines) {
    throw UserError.badUserInput(
      `A batch holds at most ${LOG_BATCH_LIMITS.lines} lines; this one has ${lines.length}. Send it in parts.`,
      { field: 'lines' },
    );
  }
  const seen = new Set<number>();
  let bytes = 0;
  for (const [index, line] of lines.entries()) {
    const field = `lines.${index}`;
    if (!Number.isInteger(line.seq) || line.seq < 1) {
      throw UserError.badUserInput(`Line ${index}: seq starts at 1 (got ${line.seq}).`, {
        field: `${field}.seq`,
      });
    }
    if (seen.has(line.seq)) {
      throw UserError.badUserInput(`Line ${index}: seq ${line.seq} appears twice in the batch.`, {
        field: `${field}.seq`,
      });
    }
    seen.add(line.seq);
    if (!STREAMS.has(line.stream)) {
      throw UserError.badUserInput(`Line ${index}: unknown stream ${line.stream}.`, {
        field: `${field}.stream`,
      });
    }
    if (Number.isNaN(line.timestamp.getTime())) {
      throw UserError.badUserInput(`Line ${index}: the timestamp is not a valid time.`, {
        field: `${field}.timestamp`,
      });
    }
    const lineBytes = Buffer.byteLength(line.text, 'utf8');
    if (lineBytes > LOG_BATCH_LIMITS.lineBytes) {
      throw UserError.badUserInput(
        `Line ${index} (seq ${line.seq}) is ${lineBytes} bytes; a line holds at most ${LOG_BATCH_LIMITS.lineBytes}: ` +
          'truncate it.',
        { field: `${field}.text` },
      );
    }
    bytes += lineBytes;
  }
  if (bytes > LOG_BATCH_LIMITS.bytes) {
    throw UserError.badUserInput(
      `A batch holds at most ${LOG_BATCH_LIMITS.bytes} bytes of text; this one has ${bytes}. Send it in parts.`,
      { field: 'lines' },
    );
  }
}

/** PostgreSQL text cannot hold NUL; a program may still print one. */
function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
