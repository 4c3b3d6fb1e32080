import { describe, expect, it } from 'vitest';
import type { RunProgress } from '../../src/logs/run-feeds.js';
import { tailRun, type StoredPage, type TailBatch, type TailSource } from '../../src/logs/run-tail.js';
import { waitFor } from '../support/wait-for.js';

// tailRun against a scripted source: storage is an array, the feed is called by hand,
// so every interleaving of "stored", "published" and "read" can be placed exactly.

type Listener = Parameters<TailSource<number>['join']>[0];

/** Storage, a live feed and a run state, driven by the test. */
class FakeRun {
  readonly stored = new Set<number>();
  terminal = false;
  listeners = new Set<Listener>();
  reads = 0;
  /** Called inside read(), before it looks at storage: to act exactly at the switch point. */
  onRead: ((read: number) => void) | undefined;
  /** Called inside read(), after its snapshot and before it answers (a commit racing the query). */
  afterSnapshot: ((read: number) => void) | undefined;

  constructor(readonly pageSize = 1000) {}

  /** Stores seqs (committed) and publishes them, as LogService.append does. */
  append(...seqs: number[]): void {
    for (const seq of seqs) this.stored.add(seq);
    for (const listener of this.listeners) listener.items(seqs, this.storedThrough());
  }

  finish(): void {
    this.terminal = true;
    for (const listener of this.listeners) listener.progress(this.progress());
  }

  storedThrough(): number {
    let through = 0;
    while (this.stored.has(through + 1)) through += 1;
    return through;
  }

  progress(): RunProgress {
    return { terminal: this.terminal, logStoredThrough: this.storedThrough() };
  }

  source(after = 0): TailSource<number> {
    return {
      after,
      key: (seq) => seq,
      gapless: true,
      flushMs: 10,
      read: async (from): Promise<StoredPage<number>> => {
        this.reads += 1;
        this.onRead?.(this.reads);
        await Promise.resolve();
        const limit = this.terminal ? Infinity : this.storedThrough();
        const items = [...this.stored]
          .filter((seq) => seq > from && seq <= limit)
          .sort((a, b) => a - b)
          .slice(0, this.pageSize);
        const terminal = this.terminal;
        this.afterSnapshot?.(this.reads);
        await Promise.resolve();
        return { items, full: items.length === this.pageSize, terminal };
      },
      join: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
    };
  }
}

/** Reads every batch into `batches` in the background; `done` settles when the stream ends. */
function drain(iterator: AsyncIterableIterator<TailBatch<number>>) {
  const batches: TailBatch<number>[] = [];
  const done = (async () => {
    for await (const batch of iterator) batches.push(batch);
  })();
  const seqs = () => batches.flatMap((batch) => batch.items);
  return { batches, done, seqs };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('tailRun', () => {
  it('delivers lines written at the switch point once: published before the replay read, and after it', async () => {
    const run = new FakeRun();
    run.append(...range(1, 5));
    // After join, before the replay looks: 6..8 are both in storage and in the live buffer.
    // Then, once the replay has read: 9..10 reach it only live.
    run.onRead = (read) => {
      if (read === 1) run.append(6, 7, 8);
    };
    const stream = drain(tailRun(run.source()));
    await waitFor(() => stream.seqs().length >= 8, { what: 'the replay' });
    run.append(9, 10);
    await waitFor(() => stream.seqs().length >= 10, { what: 'the live lines' });
    run.finish();
    await stream.done;
    expect(stream.seqs()).toEqual(range(1, 10));
    expect(stream.batches.at(-1)).toMatchObject({ complete: true, cursor: 10 });
    expect(stream.batches.slice(0, -1).every((batch) => !batch.complete)).toBe(true);
  });

  it('delivers lines committed while the replay query is in flight (after its snapshot) from the live buffer', async () => {
    const run = new FakeRun();
    run.append(1, 2, 3);
    run.afterSnapshot = (read) => {
      if (read === 1) run.append(4, 5);
    };
    const stream = drain(tailRun(run.source()));
    await waitFor(() => stream.seqs().length >= 5, { what: 'lines 4 and 5', timeoutMs: 2_000 });
    run.finish();
    await stream.done;
    expect(stream.seqs()).toEqual(range(1, 5));
  });

  it('tails live lines from the feed alone, without reading storage again', async () => {
    const run = new FakeRun();
    const stream = drain(tailRun(run.source()));
    await waitFor(() => run.reads === 1, { what: 'the replay' });
    for (let seq = 1; seq <= 20; seq += 1) {
      run.append(seq);
      await waitFor(() => stream.seqs().length === seq, { what: `line ${seq}` });
    }
    expect(run.reads).toBe(1);
    run.finish();
    await stream.done;
  });

  it('never delivers past a missing line; delivers the late line and everything after it in order', async () => {
    const run = new FakeRun();
    run.append(1, 2);
    const stream = drain(tailRun(run.source()));
    await waitFor(() => stream.seqs().length === 2, { what: 'the replay' });
    run.append(4, 5, 6);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stream.seqs()).toEqual([1, 2]);
    run.append(3);
    await waitFor(() => stream.seqs().length === 6, { what: 'the late line' });
    expect(stream.seqs()).toEqual(range(1, 6));
    run.finish();
    await stream.done;
  });

  it('reads storage again when the feed says more is stored than it delivered (a lost event)', async () => {
    const run = new FakeRun();
    const stream = drain(tailRun(run.source()));
    await waitFor(() => run.reads >= 1, { what: 'the replay' });
    // Stored and committed, but the bus lost the event: only a later progress tells.
    for (const seq of range(1, 4)) run.stored.add(seq);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stream.seqs()).toEqual([]);
    for (const listener of run.listeners) listener.progress(run.progress());
    await waitFor(() => stream.seqs().length === 4, { what: 'the repair' });
    expect(stream.seqs()).toEqual(range(1, 4));
    run.finish();
    await stream.done;
  });

  it('resumes after a cursor, replays in pages back to back, and completes on a finished run', async () => {
    const run = new FakeRun(100);
    for (const seq of range(1, 1050)) run.stored.add(seq);
    run.terminal = true;
    const stream = drain(tailRun(run.source(20)));
    await stream.done;
    expect(stream.seqs()).toEqual(range(21, 1050));
    expect(stream.batches.map((batch) => batch.items.length)).toEqual([...Array(10).fill(100), 30]);
    expect(stream.batches.at(-1)).toMatchObject({ complete: true, cursor: 1050 });
  });

  it('on a finished run shows the lines past a gap that will never be filled', async () => {
    const run = new FakeRun();
    run.append(1, 2, 4);
    const stream = drain(tailRun(run.source()));
    await waitFor(() => stream.seqs().length === 2, { what: 'the replay' });
    run.finish();
    await stream.done;
    expect(stream.seqs()).toEqual([1, 2, 4]);
  });

  it('gathers live lines into batches no more often than flushMs', async () => {
    const run = new FakeRun();
    const stream = drain(tailRun({ ...run.source(), flushMs: 200 }));
    await waitFor(() => run.reads >= 1, { what: 'the replay' });
    run.append(1);
    await waitFor(() => stream.seqs().length === 1, { what: 'the first line' });
    for (const seq of range(2, 30)) run.append(seq);
    await waitFor(() => stream.seqs().length === 30, { what: 'the rest' });
    // The first line went at once; the 29 after it within the next window, together.
    expect(stream.batches.map((batch) => batch.items.length)).toEqual([1, 29]);
    run.finish();
    await stream.done;
  });

  it('stops at once when the consumer returns, even while waiting for news', async () => {
    const run = new FakeRun();
    const iterator = tailRun(run.source());
    const first = iterator.next();
    await waitFor(() => run.reads >= 1 && run.listeners.size === 1, { what: 'the wait' });
    await iterator.return!();
    expect(await first).toEqual({ done: true, value: undefined });
    expect(run.listeners.size).toBe(0);
  });

  it('delivers metric-like keys (not gapless) as they come, each once, in order', async () => {
    const run = new FakeRun();
    const stream = drain(tailRun({ ...run.source(), gapless: false }));
    await waitFor(() => run.reads >= 1, { what: 'the replay' });
    for (const listener of run.listeners) listener.items([1000, 3000, 2000], 0);
    await waitFor(() => stream.seqs().length === 3, { what: 'live samples' });
    for (const listener of run.listeners) listener.items([2000, 2500, 4000], 0);
    await waitFor(() => stream.seqs().length === 4, { what: 'the newer sample' });
    expect(stream.seqs()).toEqual([1000, 2000, 3000, 4000]);
    run.finish();
    await stream.done;
  });
});
