// The lines of one run's log held by the viewer: kept in seq order with no seq twice, whatever order
// and however often the server sends them (a replay after a reconnect overlaps what arrived before),
// and the view of them the reader asked for: some streams only, and where a search matches.
import type { LogStream } from '../gql/graphql';
import { matchRanges, plainText } from './ansi';

export interface LogLine {
  seq: number;
  stream: LogStream;
  timestamp: string;
  text: string;
}

export interface BufferedLine extends LogLine {
  /** The text without escape codes, lower-cased: what search looks in. */
  searchable: string;
}

export const ALL_STREAMS: readonly LogStream[] = ['STDOUT', 'STDERR', 'SYSTEM'];

/** The index of the first item whose key is at least `target` (items.length when there is none). */
function lowerBound<T>(items: readonly T[], target: number, key: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (key(items[middle]!) < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

const bySeq = (line: LogLine) => line.seq;
const byValue = (value: number) => value;

function lineMatches(line: BufferedLine, needle: string): boolean {
  return needle !== '' && line.searchable.includes(needle);
}

export class LogBuffer {
  /** Every line received, by seq. */
  readonly lines: BufferedLine[] = [];
  /** The lines shown: those of the chosen streams, by seq. */
  rows: BufferedLine[] = [];
  /** Indexes in `rows` of the lines the search matches, in order. */
  matches: number[] = [];
  private streams: ReadonlySet<LogStream> = new Set(ALL_STREAMS);
  private needle = '';

  get size(): number {
    return this.lines.length;
  }

  get query(): string {
    return this.needle;
  }

  /**
   * Adds the lines whose seq is new and returns how many that was. Lines after the last one are
   * appended (the usual case, one comparison each); an earlier one is inserted in its place.
   */
  add(incoming: readonly LogLine[]): number {
    let added = 0;
    let inserted = false;
    for (const line of incoming) {
      const last = this.lines[this.lines.length - 1];
      const buffered: BufferedLine = { ...line, searchable: plainText(line.text).toLowerCase() };
      if (!last || line.seq > last.seq) {
        this.lines.push(buffered);
        added++;
        if (!inserted && this.streams.has(line.stream)) this.appendRow(buffered);
        continue;
      }
      const at = lowerBound(this.lines, line.seq, bySeq);
      if (this.lines[at]?.seq === line.seq) continue;
      this.lines.splice(at, 0, buffered);
      added++;
      inserted = true;
    }
    // A line landed before others: rebuild the view rather than patch indexes.
    if (inserted) this.rebuild();
    return added;
  }

  setStreams(streams: Iterable<LogStream>): void {
    this.streams = new Set(streams);
    this.rebuild();
  }

  setQuery(query: string): void {
    this.needle = query.toLowerCase();
    this.matches = [];
    this.rows.forEach((row, index) => {
      if (lineMatches(row, this.needle)) this.matches.push(index);
    });
  }

  /** The index in `rows` of the line `seq`, or -1 when it is not shown (not received, or filtered out). */
  rowOf(seq: number): number {
    const at = lowerBound(this.rows, seq, bySeq);
    return this.rows[at]?.seq === seq ? at : -1;
  }

  /** Where the search matches in a row's text, as [start, end) offsets in its plain text. */
  rangesIn(row: BufferedLine): [number, number][] {
    return matchRanges(plainText(row.text), this.needle);
  }

  private appendRow(row: BufferedLine): void {
    this.rows.push(row);
    if (lineMatches(row, this.needle)) this.matches.push(this.rows.length - 1);
  }

  private rebuild(): void {
    this.rows = this.lines.filter((line) => this.streams.has(line.stream));
    this.setQuery(this.needle);
  }
}

/**
 * The match to show after moving `step` (+1 next, -1 previous) from `current` (an index in `matches`,
 * or -1 for none yet), wrapping around at either end. With no current match, "next" picks the first
 * match at or after the row `fromRow` (the top of the view), "previous" the last one before it.
 */
export function stepMatch(matches: readonly number[], current: number, step: 1 | -1, fromRow = 0): number {
  if (matches.length === 0) return -1;
  if (current < 0 || current >= matches.length) {
    const after = lowerBound(matches, fromRow, byValue);
    if (step === 1) return after === matches.length ? 0 : after;
    return after === 0 ? matches.length - 1 : after - 1;
  }
  return (current + step + matches.length) % matches.length;
}
