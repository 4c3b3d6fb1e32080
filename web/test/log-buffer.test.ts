import { describe, expect, it } from 'vitest';
import type { LogStream } from '../src/gql/graphql';
import { LogBuffer, stepMatch, type LogLine } from '../src/logs/log-buffer';

const STREAMS: LogStream[] = ['STDOUT', 'STDERR', 'SYSTEM'];

function line(seq: number, text = `line ${seq}`, stream: LogStream = STREAMS[seq % 3]!): LogLine {
  return { seq, stream, timestamp: new Date(Date.UTC(2026, 10, 27, 12, 0, 0, seq)).toISOString(), text };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => line(from + index));
const seqs = (lines: readonly { seq: number }[]) => lines.map((each) => each.seq);

describe('the log buffer', () => {
  it('keeps each seq once, in order, when batches overlap, repeat or arrive out of order', () => {
    const buffer = new LogBuffer();
    expect(buffer.add(range(1, 5))).toBe(5);
    // A replay after a reconnect overlaps what came before.
    expect(buffer.add(range(3, 8))).toBe(3);
    expect(buffer.add(range(1, 8))).toBe(0);
    // A late line lands in its place.
    expect(buffer.add([line(12), line(10)])).toBe(2);
    expect(buffer.add([line(11), line(9), line(11)])).toBe(2);
    expect(seqs(buffer.lines)).toEqual(range(1, 12).map((each) => each.seq));
    expect(seqs(buffer.rows)).toEqual(seqs(buffer.lines));
  });

  it('shows only the chosen streams, also for lines added later or late', () => {
    const buffer = new LogBuffer();
    buffer.add([...range(1, 4), line(6)]);
    buffer.setStreams(['STDERR']);
    expect(buffer.rows.map((row) => row.stream)).toEqual(['STDERR', 'STDERR']);
    buffer.add(range(7, 9));
    expect(seqs(buffer.rows)).toEqual([1, 4, 7]);
    buffer.add([line(5, 'late', 'STDERR')]);
    expect(seqs(buffer.rows)).toEqual([1, 4, 5, 7]);
    buffer.setStreams(STREAMS);
    expect(seqs(buffer.rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(buffer.rowOf(7)).toBe(6);
    buffer.setStreams(['SYSTEM']);
    expect(buffer.rowOf(7)).toBe(-1);
  });

  it('finds matches in the shown rows, ignoring case and ANSI codes, and keeps them as lines arrive', () => {
    const buffer = new LogBuffer();
    buffer.add([
      line(1, 'starting', 'STDOUT'),
      line(2, '\u001b[31mERR\u001b[0mOR: disk full', 'STDERR'),
      line(3, 'retrying', 'STDOUT'),
    ]);
    buffer.setQuery('error');
    expect(buffer.matches).toEqual([1]);
    expect(buffer.rangesIn(buffer.rows[1]!)).toEqual([[0, 5]]);
    buffer.add([line(4, 'another Error', 'STDOUT'), line(5, 'fine', 'STDOUT')]);
    expect(buffer.matches).toEqual([1, 3]);
    buffer.setStreams(['STDOUT']);
    expect(buffer.matches).toEqual([2]);
    buffer.setQuery('');
    expect(buffer.matches).toEqual([]);
  });

  it('holds 100,000 lines and adds a batch of 5,000 within the 50 ms frame budget', () => {
    const buffer = new LogBuffer();
    buffer.add(range(1, 100_000));
    const batch = range(100_001, 105_000);
    const started = performance.now();
    buffer.add(batch);
    const took = performance.now() - started;
    expect(buffer.size).toBe(105_000);
    console.log(`5,000 lines added to 100,000 in ${took.toFixed(1)} ms`);
    expect(took).toBeLessThan(50);
  });
});

describe('moving between search matches', () => {
  const matches = [2, 5, 9];

  it('steps forward and back, wrapping at the ends', () => {
    expect(stepMatch(matches, 0, 1)).toBe(1);
    expect(stepMatch(matches, 2, 1)).toBe(0);
    expect(stepMatch(matches, 0, -1)).toBe(2);
    expect(stepMatch(matches, 1, -1)).toBe(0);
  });

  it('starts from the row in view when no match is current', () => {
    expect(stepMatch(matches, -1, 1, 0)).toBe(0);
    expect(stepMatch(matches, -1, 1, 5)).toBe(1);
    expect(stepMatch(matches, -1, 1, 6)).toBe(2);
    expect(stepMatch(matches, -1, 1, 10)).toBe(0);
    expect(stepMatch(matches, -1, -1, 6)).toBe(1);
    expect(stepMatch(matches, -1, -1, 2)).toBe(2);
  });

  it('has nothing to move to without matches', () => {
    expect(stepMatch([], -1, 1)).toBe(-1);
    expect(stepMatch([], 0, -1)).toBe(-1);
  });
});
