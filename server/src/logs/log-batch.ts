import { UserError } from '../graphql/errors.js';
import { LogStream } from './run-log-chunk.entity.js';
import type { WireLogLine } from './log.service.js';

/** What one appendRunLogs batch may hold (the agent truncates longer lines itself). */
export const LOG_BATCH_LIMITS = {
  lines: 2_000,
  bytes: 4 * 1024 * 1024,
  lineBytes: 16 * 1024,
} as const;

/** A line of an accepted batch: as the bus carries it, with its stored size. */
export interface BatchLine extends WireLogLine {
  /** UTF-8 bytes of the stored text. */
  bytes: number;
}

/** Lines firstSeq..lastSeq, all stored (a chunk's bounds). */
export interface SeqRange {
  first_seq: number;
  last_seq: number;
}

const STREAMS = new Set<string>(Object.values(LogStream));
/** The seq column is a PostgreSQL int. */
const MAX_SEQ = 2 ** 31 - 1;
const EXAMPLE_TIME = '2026-11-27T12:00:00.000Z';
/**
 * ISO 8601 with a zone. JavaScript and PostgreSQL would read a time without a
 * zone differently, and JavaScript rolls 2026-02-30 over into March where
 * PostgreSQL refuses it, so such times are rewritten in Date#toISOString's form.
 */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
/**
 * Date#toISOString's form (what the agent sends) with a valid year and no day
 * past the 28th: both read it as the same instant, so it is kept as sent
 * (rewriting every line's time cost more than the rest of the check).
 */
const PLAIN_TIMESTAMP =
  /^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
/** 0001-01-01 to 9999-12-31: PostgreSQL has no year 0, and later years need six digits. */
const EARLIEST_TIME = -62_135_596_800_000;
const LATEST_TIME = 253_402_300_799_999;
/** NUL (PostgreSQL text cannot hold it) or half of a surrogate pair (JSON for PostgreSQL cannot carry one). */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Checks a batch as the agent sent it (JSON, not yet typed) and returns its
 * lines in seq order. Refuses the whole batch on the first problem, naming the
 * line, so a malformed batch never stores part of itself.
 */
export function checkBatch(batch: unknown): BatchLine[] {
  if (!Array.isArray(batch)) {
    throw UserError.badUserInput('lines is a list of {seq, stream, timestamp, text} objects.', {
      field: 'lines',
    });
  }
  if (batch.length > LOG_BATCH_LIMITS.lines) {
    throw UserError.badUserInput(
      `A batch holds at most ${LOG_BATCH_LIMITS.lines} lines; this one has ${batch.length}. Send it in parts.`,
      { field: 'lines' },
    );
  }
  const lines: BatchLine[] = [];
  let bytes = 0;
  let ascending = true;
  for (const [index, value] of (batch as unknown[]).entries()) {
    const line = checkLine(value, index);
    if (lines.length > 0 && line.seq <= lines.at(-1)!.seq) ascending = false;
    lines.push(line);
    bytes += line.bytes;
  }
  // Agents send seqs in ascending order, which has no repeats; anything else is sorted and checked.
  if (!ascending) {
    lines.sort((a, b) => a.seq - b.seq);
    const repeat = lines.find((line, index) => index > 0 && lines[index - 1]!.seq === line.seq);
    if (repeat) {
      const index = (batch as { seq: number }[]).findLastIndex((line) => line.seq === repeat.seq);
      refuse(index, 'seq', `Line ${index}: seq ${repeat.seq} appears twice in the batch.`);
    }
  }
  if (bytes > LOG_BATCH_LIMITS.bytes) {
    throw UserError.badUserInput(
      `A batch holds at most ${LOG_BATCH_LIMITS.bytes} bytes of text; this one has ${bytes}. Send it in parts.`,
      { field: 'lines' },
    );
  }
  return lines;
}

function checkLine(value: unknown, index: number): BatchLine {
  if (typeof value !== 'object' || value === null) {
    refuse(index, '', `Line ${index} is not a {seq, stream, timestamp, text} object.`);
  }
  const { seq, stream, timestamp, text } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) {
    refuse(
      index,
      'seq',
      `Line ${index}: seq starts at 1 and is at most ${MAX_SEQ} (got ${JSON.stringify(seq)}).`,
    );
  }
  if (typeof stream !== 'string' || !STREAMS.has(stream)) {
    refuse(
      index,
      'stream',
      `Line ${index}: unknown stream ${JSON.stringify(stream)} (${[...STREAMS].join(', ')}).`,
    );
  }
  const plain = typeof timestamp === 'string' && PLAIN_TIMESTAMP.test(timestamp);
  const time =
    !plain && typeof timestamp === 'string' && ISO_TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : NaN;
  if (!plain && !(time >= EARLIEST_TIME && time <= LATEST_TIME)) {
    refuse(
      index,
      'timestamp',
      `Line ${index}: the timestamp is not an ISO 8601 time with a zone (${EXAMPLE_TIME}).`,
    );
  }
  if (typeof text !== 'string') refuse(index, 'text', `Line ${index}: text is a string.`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LOG_BATCH_LIMITS.lineBytes) {
    refuse(
      index,
      'text',
      `Line ${index} (seq ${seq}) is ${bytes} bytes; a line holds at most ${LOG_BATCH_LIMITS.lineBytes}: truncate it.`,
    );
  }
  const stored = text.replace(UNSTORABLE, '\uFFFD');
  return {
    seq,
    stream: stream as LogStream,
    timestamp: plain ? (timestamp as string) : new Date(time).toISOString(),
    text: stored,
    bytes: stored === text ? bytes : Buffer.byteLength(stored, 'utf8'),
  };
}

function refuse(index: number, field: string, message: string): never {
  throw UserError.badUserInput(message, { field: field ? `lines.${index}.${field}` : `lines.${index}` });
}

/** `lines` (in seq order) without those inside `stored` (chunk bounds in seq order). */
export function withoutStored<T extends { seq: number }>(
  lines: readonly T[],
  stored: readonly SeqRange[],
): T[] {
  if (stored.length === 0) return [...lines];
  const kept: T[] = [];
  let range = 0;
  for (const line of lines) {
    while (range < stored.length && stored[range]!.last_seq < line.seq) range += 1;
    const covering = stored[range];
    if (!covering || line.seq < covering.first_seq) kept.push(line);
  }
  return kept;
}

/** `lines` (in seq order) cut wherever a seq is missing: each part becomes one chunk. */
export function consecutiveRuns<T extends { seq: number }>(lines: readonly T[]): T[][] {
  const runs: T[][] = [];
  for (const line of lines) {
    const current = runs.at(-1);
    if (current && current.at(-1)!.seq + 1 === line.seq) current.push(line);
    else runs.push([line]);
  }
  return runs;
}

export function rangeOf(run: readonly { seq: number }[]): SeqRange {
  return { first_seq: run[0]!.seq, last_seq: run.at(-1)!.seq };
}

/** The highest seq such that 1..seq is stored, given it was `through` and `stored` (chunks past it) now are. */
export function prefixThrough(through: number, stored: readonly SeqRange[]): number {
  let prefix = through;
  for (const range of [...stored].sort((a, b) => a.first_seq - b.first_seq)) {
    if (range.first_seq > prefix + 1) break;
    prefix = Math.max(prefix, range.last_seq);
  }
  return prefix;
}
