import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { frameBatcher } from '../src/logs/frame-batcher';
import { CursorFollower, type CursorBatch, type CursorSource } from '../src/graphql/cursor-follower';
import { LogBuffer, type LogLine } from '../src/logs/log-buffer';

const line = (seq: number): LogLine => ({
  seq,
  stream: 'STDOUT',
  timestamp: '2026-11-27T12:00:00.000Z',
  text: `line ${seq}`,
});
const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => line(from + index));

type LogSource = CursorSource<LogLine, number>;

interface Stream {
  after: number | null;
  sink: Parameters<LogSource['subscribe']>[1];
  stopped: boolean;
}

/** A server holding a run's log: subscriptions and pages read from `stored`, as the real one does. */
class FakeServer implements LogSource {
  stored: LogLine[] = [];
  finished = false;
  streams: Stream[] = [];
  pages: number[] = [];
  pageSize = 3;

  subscribe(after: number | null, sink: Stream['sink']): () => void {
    const stream: Stream = { after, sink, stopped: false };
    this.streams.push(stream);
    // Like wonka's onEnd, the stream reports its end when it is cancelled too.
    return () => {
      stream.stopped = true;
      sink.ended();
    };
  }

  async page(after: number | null) {
    this.pages.push(after ?? 0);
    const rest = this.stored.filter((each) => each.seq > (after ?? 0));
    const page = rest.slice(0, this.pageSize);
    return { items: page, cursor: page.at(-1)?.seq ?? after, hasMore: rest.length > page.length };
  }

  /** What an open subscription gets when lines are stored: those after its cursor. */
  send(stream: Stream, batch: Partial<CursorBatch<LogLine, number>> & { items: LogLine[] }): void {
    if (stream.stopped) throw new Error('sent to a stopped stream');
    stream.sink.batch({ cursor: batch.items.at(-1)?.seq ?? stream.after, complete: false, ...batch });
  }

  get open(): Stream[] {
    return this.streams.filter((stream) => !stream.stopped);
  }
}

function follow(server: FakeServer) {
  const buffer = new LogBuffer();
  const delivered: number[] = [];
  const events: string[] = [];
  const follower = new CursorFollower(server, {
    deliver: (batch) => {
      delivered.push(...batch.map((each) => each.seq));
      buffer.add(batch);
    },
    runFinished: () => server.finished,
    onComplete: () => events.push('complete'),
    onError: (error) => events.push(`error: ${String(error)}`),
    pollMs: 2000,
    resubscribeMs: 500,
  });
  return { buffer, delivered, events, follower };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('following a run’s log', () => {
  it('resubscribes after a reconnect from the last cursor: no line missing, none twice', () => {
    const server = new FakeServer();
    const { buffer, delivered, follower } = follow(server);
    follower.use('subscription', 1);
    expect(server.streams.map((stream) => stream.after)).toEqual([null]);
    server.send(server.streams[0]!, { items: lines(1, 40) });
    server.send(server.streams[0]!, { items: lines(41, 50) });

    // The socket drops: the subscription on it is dropped too, not left for the client to replay.
    follower.use('none', 1);
    expect(server.open).toEqual([]);
    follower.use('subscription', 2);
    expect(server.streams.map((stream) => stream.after)).toEqual([null, 50]);
    server.send(server.streams[1]!, { items: lines(51, 60), complete: true });

    expect(delivered).toEqual(lines(1, 60).map((each) => each.seq));
    expect(buffer.size).toBe(60);
    expect(follower.complete).toBe(true);
    expect(server.open).toEqual([]);
  });

  it('starts over from the cursor when the page got a new socket while it was still "live"', () => {
    const server = new FakeServer();
    const { follower } = follow(server);
    follower.use('subscription', 1);
    server.send(server.streams[0]!, { items: lines(1, 7) });
    follower.use('subscription', 1);
    expect(server.streams).toHaveLength(1);
    follower.use('subscription', 2);
    expect(server.streams.map((stream) => [stream.after, stream.stopped])).toEqual([
      [null, true],
      [7, false],
    ]);
  });

  it('drops a resent line it already has (the buffer dedupes by seq)', () => {
    const server = new FakeServer();
    const { buffer, follower } = follow(server);
    follower.use('subscription', 1);
    server.send(server.streams[0]!, { items: lines(1, 10) });
    server.send(server.streams[0]!, { items: lines(8, 12) });
    expect(buffer.lines.map((each) => each.seq)).toEqual(lines(1, 12).map((each) => each.seq));
  });

  it('ignores batches of a stream it stopped', () => {
    const server = new FakeServer();
    const { delivered, follower } = follow(server);
    follower.use('subscription', 1);
    const old = server.streams[0]!;
    follower.use('subscription', 2);
    old.sink.batch({ items: lines(1, 3), cursor: 3, complete: false });
    expect(delivered).toEqual([]);
    expect(follower.cursor).toBeNull();
  });

  it('subscribes again when the server ends the stream before the run is complete', async () => {
    const server = new FakeServer();
    const { follower } = follow(server);
    follower.use('subscription', 1);
    server.send(server.streams[0]!, { items: lines(1, 4) });
    server.streams[0]!.stopped = true;
    server.streams[0]!.sink.ended();
    expect(server.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(server.streams.map((stream) => stream.after)).toEqual([null, 4]);
  });

  it('does not resubscribe for the end of a stream it stopped itself', async () => {
    const server = new FakeServer();
    const { follower } = follow(server);
    follower.use('subscription', 1);
    follower.use('none', 1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.streams).toHaveLength(1);
    follower.use('subscription', 2);
    follower.use('subscription', 3);
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.streams.map((stream) => stream.stopped)).toEqual([true, true, false]);
  });

  it('polls pages after the cursor while only HTTP works, and stops once the run is over', async () => {
    const server = new FakeServer();
    server.stored = lines(1, 7);
    const { delivered, events, follower } = follow(server);
    follower.use('subscription', 1);
    server.send(server.streams[0]!, { items: lines(1, 2) });

    follower.use('polling', 1);
    expect(server.open).toEqual([]);
    await vi.advanceTimersByTimeAsync(0);
    // Pages of three until nothing more is stored, then one poll every pollMs.
    expect(server.pages).toEqual([2, 5]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(server.pages).toEqual([2, 5, 7]);
    server.stored.push(...lines(8, 9));
    await vi.advanceTimersByTimeAsync(2000);
    expect(server.pages).toEqual([2, 5, 7, 7]);
    server.finished = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect(server.pages).toEqual([2, 5, 7, 7, 9]);
    expect(events).toEqual(['complete']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.pages).toHaveLength(5);
    expect(delivered).toEqual(lines(1, 9).map((each) => each.seq));
  });

  it('leaves polling for the subscription when the socket comes back, from where the pages ended', async () => {
    const server = new FakeServer();
    server.stored = lines(1, 5);
    const { delivered, follower } = follow(server);
    follower.use('polling', 0);
    await vi.advanceTimersByTimeAsync(0);
    follower.use('subscription', 1);
    expect(server.streams.map((stream) => stream.after)).toEqual([5]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.pages).toEqual([0, 3]);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it('reports a failed poll and tries again at the next one', async () => {
    const server = new FakeServer();
    const { events, follower } = follow(server);
    const page = vi.spyOn(server, 'page').mockRejectedValueOnce(new Error('502'));
    follower.use('polling', 0);
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['error: Error: 502']);
    await vi.advanceTimersByTimeAsync(2000);
    expect(page).toHaveBeenCalledTimes(2);
  });
});

describe('the frame batcher', () => {
  it('hands over everything pushed between two frames at once', () => {
    const frames: (() => void)[] = [];
    const flushed: number[][] = [];
    const batcher = frameBatcher<number>((items) => flushed.push(items), {
      request: (callback) => frames.push(callback),
      cancel: () => undefined,
    });
    batcher.push([1, 2]);
    batcher.push([3]);
    expect(frames).toHaveLength(1);
    expect(flushed).toEqual([]);
    frames[0]!();
    batcher.push([4]);
    expect(frames).toHaveLength(2);
    frames[1]!();
    expect(flushed).toEqual([[1, 2, 3], [4]]);
  });

  it('takes a batch of 200,000 items (more than a spread call can pass)', () => {
    let flushed = 0;
    const batcher = frameBatcher<number>((items) => (flushed = items.length), {
      request: (callback) => (callback(), 1),
      cancel: () => undefined,
    });
    batcher.push(Array.from({ length: 200_000 }, (_, index) => index));
    expect(flushed).toBe(200_000);
  });
});
