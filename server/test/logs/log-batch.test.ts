import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/graphql/errors.js';
import {
  LOG_BATCH_LIMITS,
  checkBatch,
  consecutiveRuns,
  prefixThrough,
  rangeOf,
  withoutStored,
} from '../../src/logs/log-batch.js';
import { logLines } from './fixtures.js';

function refusal(batch: unknown): UserError {
  try {
    checkBatch(batch);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('BAD_USER_INPUT');
    return error as UserError;
  }
  throw new Error('the batch was accepted');
}

const line = logLines(1, 1)[0]!;

describe('checkBatch (the agent’s JSON, before anything is stored)', () => {
  it.each([
    ['not a list', { seq: 1 }, 'lines', /list of \{seq, stream, timestamp, text\}/],
    ['a line that is not an object', [line, 'line 2'], 'lines.1', /Line 1 is not/],
    ['a null line', [null], 'lines.0', /Line 0 is not/],
    ['a seq that is text', [{ ...line, seq: '1' }], 'lines.0.seq', /seq starts at 1/],
    ['a fractional seq', [{ ...line, seq: 1.5 }], 'lines.0.seq', /seq starts at 1/],
    ['a seq past a PostgreSQL int', [{ ...line, seq: 2 ** 31 }], 'lines.0.seq', /at most 2147483647/],
    ['an unknown stream', [{ ...line, stream: 'STDIN' }], 'lines.0.stream', /unknown stream "STDIN"/],
    ['a missing stream', [{ ...line, stream: undefined }], 'lines.0.stream', /unknown stream/],
    [
      'a time without a zone',
      [{ ...line, timestamp: '2026-11-27T12:00:00' }],
      'lines.0.timestamp',
      /with a zone/,
    ],
    [
      'a time that is no date',
      [{ ...line, timestamp: '2026-13-45T12:00:00Z' }],
      'lines.0.timestamp',
      /ISO 8601/,
    ],
    ['a time as a number', [{ ...line, timestamp: Date.now() }], 'lines.0.timestamp', /ISO 8601/],
    [
      'a time with injected text',
      [{ ...line, timestamp: '2026-11-27T12:00:00Z,1' }],
      'lines.0.timestamp',
      /ISO/,
    ],
    ['text that is not a string', [{ ...line, text: { evil: true } }], 'lines.0.text', /text is a string/],
  ])('refuses %s, naming the field', (_what, batch, field, message) => {
    const error = refusal(batch);
    expect(error.extensions).toMatchObject({ field });
    expect(error.message).toMatch(message);
  });

  it('refuses times PostgreSQL cannot hold and writes the rest as JavaScript and PostgreSQL agree on', () => {
    for (const timestamp of [
      '0000-06-01T00:00:00Z',
      '+010000-01-01T00:00:00Z',
      '9999-12-31T23:59:59-01:00',
    ]) {
      expect(refusal([{ ...line, timestamp }]).extensions, timestamp).toMatchObject({
        field: 'lines.0.timestamp',
      });
    }
    const times = ['2026-02-30T12:00:00Z', '2026-11-27T13:00:00.123456+01:00', '0001-01-01T00:00:00Z'];
    expect(
      checkBatch(times.map((timestamp, index) => ({ ...line, seq: index + 1, timestamp }))).map(
        (each) => each.timestamp,
      ),
    ).toEqual(['2026-03-02T12:00:00.000Z', '2026-11-27T12:00:00.123Z', '0001-01-01T00:00:00.000Z']);
  });

  it('returns the lines in seq order with their stored size, whatever order they came in', () => {
    const lines = checkBatch([...logLines(4, 5), ...logLines(1, 2)]);
    expect(lines.map((each) => each.seq)).toEqual([1, 2, 4, 5]);
    expect(lines[0]).toEqual({ ...logLines(1, 1)[0], bytes: 'line 1'.length });
  });

  it('replaces what PostgreSQL cannot store (NUL, half a surrogate pair) and counts what is stored', () => {
    const texts = ['nul\u0000byte', 'high \uD83D alone', 'low \uDE80 alone', 'pair 🚀 kept', '\uDE80\uD83D'];
    const lines = checkBatch(texts.map((text, index) => ({ ...line, seq: index + 1, text })));
    expect(lines.map((each) => each.text)).toEqual([
      'nul\uFFFDbyte',
      'high \uFFFD alone',
      'low \uFFFD alone',
      'pair 🚀 kept',
      '\uFFFD\uFFFD',
    ]);
    expect(lines.map((each) => each.bytes)).toEqual(lines.map((each) => Buffer.byteLength(each.text)));
  });

  it('checks the line limit on the text as sent', () => {
    const full = 'x'.repeat(LOG_BATCH_LIMITS.lineBytes - 1);
    // NUL grows to three bytes when replaced: the agent truncated to the limit, so it is still accepted.
    expect(checkBatch([{ ...line, text: `${full}\u0000` }])[0]!.bytes).toBe(LOG_BATCH_LIMITS.lineBytes + 2);
    expect(refusal([{ ...line, text: `${full}xx` }]).extensions).toMatchObject({ field: 'lines.0.text' });
  });
});

/** Seqs as a sorted, distinct list of ranges (chunks). */
const storedRanges = fc
  .uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 })
  .map((seqs) => consecutiveRuns([...seqs].sort((a, b) => a - b).map((seq) => ({ seq }))).map(rangeOf));

describe('chunk arithmetic', () => {
  it('keeps exactly the lines no stored range covers', () => {
    fc.assert(
      fc.property(storedRanges, fc.uniqueArray(fc.integer({ min: 1, max: 70 })), (stored, seqs) => {
        const lines = [...seqs].sort((a, b) => a - b).map((seq) => ({ seq }));
        const covered = (seq: number) =>
          stored.some((range) => range.first_seq <= seq && seq <= range.last_seq);
        expect(withoutStored(lines, stored)).toEqual(lines.filter((each) => !covered(each.seq)));
      }),
    );
  });

  it('cuts lines into runs of consecutive seqs, losing none', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 200 })), (seqs) => {
        const lines = [...seqs].sort((a, b) => a - b).map((seq) => ({ seq }));
        const runs = consecutiveRuns(lines);
        expect(runs.flat()).toEqual(lines);
        for (const run of runs) expect(run.at(-1)!.seq - run[0]!.seq + 1).toBe(run.length);
        for (let i = 1; i < runs.length; i += 1)
          expect(runs[i]![0]!.seq).toBeGreaterThan(runs[i - 1]!.at(-1)!.seq + 1);
      }),
    );
  });

  it('finds the highest seq with everything before it stored', () => {
    fc.assert(
      fc.property(storedRanges, (stored) => {
        const all = new Set(stored.flatMap((range) => rangeSeqs(range.first_seq, range.last_seq)));
        let expected = 0;
        while (all.has(expected + 1)) expected += 1;
        expect(prefixThrough(0, [...stored].reverse())).toBe(expected);
      }),
    );
  });
});

const rangeSeqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
