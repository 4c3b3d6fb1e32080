import { setTimeout as sleep } from 'node:timers/promises';
import type { RunProgress } from './run-feeds.js';

/** A page read from storage, with the run's state from the same snapshot. */
export interface StoredPage<T> {
  items: T[];
  /** The page holds as many items as asked for: more may follow at once. */
  full: boolean;
  /** The run had finished when the page was read: nothing will be added after it. */
  terminal: boolean;
}

/** What a live stream delivers: items after the previous batch's cursor, in order. */
export interface TailBatch<T> {
  items: T[];
  /** The last item's key (or the previous cursor): resume after it. */
  cursor: number;
  /** The run has finished and everything stored has been delivered: the stream ends. */
  complete: boolean;
}

export interface TailSource<T> {
  /** Resume after this key (0: from the start). */
  after: number;
  key(item: T): number;
  /**
   * Keys are 1, 2, 3…: an item is delivered only once every smaller key was (logs,
   * where a late line may arrive after a later one). Otherwise keys only increase
   * and live items are delivered as they come (metrics).
   */
  gapless: boolean;
  /** Stored items after `after`, as a reader may see them now. */
  read(after: number): Promise<StoredPage<T>>;
  /**
   * Starts live delivery of committed items and of the run's progress; returns the
   * function that stops it. Called before the first read, so nothing committed
   * between the replay and the tail is missed.
   */
  join(listener: {
    items(items: readonly T[], storedThrough: number): void;
    progress(progress: RunProgress): void;
  }): () => void;
  /** Live items go out at most this often, gathered into one batch. */
  flushMs: number;
}

/**
 * Replay-then-tail for one subscriber: subscribe to the live feed first and
 * buffer, replay from storage after the cursor, drop buffered items the replay
 * already covered (by key), then deliver live items in key order. Storage stays
 * the truth: whenever the feed says more is stored than was delivered (an event
 * lost on the bus, a line stored before the subscription past a gap that has
 * since been filled), the missing range is read again. Ends once the run is
 * finished and a read after that found nothing more.
 *
 * The iterator's return() (the client unsubscribed or its socket closed) takes
 * effect at once, even while the stream waits for news: an async generator alone
 * would only notice at its next yield, and a quiet run might never give it one.
 */
export function tailRun<T>(source: TailSource<T>): AsyncIterableIterator<TailBatch<T>> {
  const stop = new AbortController();
  const batches = tailBatches(source, stop.signal);
  return {
    next: () => batches.next(),
    return: (value?: unknown) => {
      stop.abort();
      return batches.return(value as undefined);
    },
    throw: (error?: unknown) => {
      stop.abort();
      return batches.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* tailBatches<T>(source: TailSource<T>, stopped: AbortSignal): AsyncGenerator<TailBatch<T>> {
  let cursor = source.after;
  const pending = new Map<number, T>();
  let storedThrough = 0;
  let terminal = false;
  let mustRead = true;
  let lastFlush = -Infinity;
  let wake: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  stopped.addEventListener('abort', signal, { once: true });

  const leave = source.join({
    items(items, through) {
      for (const item of items) {
        const key = source.key(item);
        if (key > cursor) pending.set(key, item);
      }
      storedThrough = Math.max(storedThrough, through);
      signal();
    },
    progress(progress) {
      if (source.gapless) storedThrough = Math.max(storedThrough, progress.logStoredThrough);
      terminal ||= progress.terminal;
      signal();
    },
  });

  const takePending = (into: T[]) => {
    if (source.gapless) {
      for (let item = pending.get(cursor + 1); item !== undefined; item = pending.get(cursor + 1)) {
        pending.delete(cursor + 1);
        into.push(item);
        cursor += 1;
      }
      return;
    }
    for (const key of [...pending.keys()].sort((a, b) => a - b)) {
      into.push(pending.get(key)!);
      cursor = key;
    }
    pending.clear();
  };
  const hasWork = () =>
    terminal || cursor < storedThrough || (source.gapless ? pending.has(cursor + 1) : pending.size > 0);

  try {
    while (!stopped.aborted) {
      const items: T[] = [];
      // Live items first (once the replay is done): storage is read only for what they do not cover.
      if (!mustRead) takePending(items);
      let complete = false;
      if (mustRead || terminal || cursor < storedThrough) {
        const page = await source.read(cursor);
        for (const item of page.items) {
          const key = source.key(item);
          if (key <= cursor) continue;
          items.push(item);
          cursor = key;
        }
        for (const key of pending.keys()) if (key <= cursor) pending.delete(key);
        mustRead = page.full;
        // Everything storage showed is delivered: wait for news before reading again.
        if (!page.full) storedThrough = Math.min(storedThrough, cursor);
        complete = page.terminal && !page.full;
        // Replayed pages go out back to back; live items join once the replay is done.
        if (!mustRead && !complete) takePending(items);
      }
      if (items.length > 0 || complete) {
        yield { items, cursor, complete };
        lastFlush = performance.now();
      }
      if (complete) return;
      if (mustRead) continue;
      if (!hasWork() && !stopped.aborted) await new Promise<void>((resolve) => (wake = resolve));
      // The first live item after a quiet spell goes at once; a busy stream, every flushMs.
      const wait = lastFlush + source.flushMs - performance.now();
      if (wait > 0 && !stopped.aborted)
        await sleep(wait, undefined, { signal: stopped }).catch(() => undefined);
    }
  } finally {
    leave();
  }
}
