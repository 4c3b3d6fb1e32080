// Follows a resumable stream of a run (its log, its metrics) over whatever the connection allows:
// the cursor subscription while the socket is live, pages of the matching query while only plain
// HTTP gets through, nothing while offline. Every (re)start asks for what follows the last cursor
// received, so a reconnect neither skips nor repeats items (and the receiver drops any it already
// has, should the server resend one).

export interface CursorBatch<T, C> {
  items: readonly T[];
  /** Resume after this; null while there is nothing yet. */
  cursor: C | null;
  /** Everything has been delivered and nothing will follow: the stream ends after this batch. */
  complete: boolean;
}

export interface CursorPage<T, C> {
  items: readonly T[];
  cursor: C | null;
  /** More is stored after this page. */
  hasMore: boolean;
}

export interface CursorSource<T, C> {
  /**
   * What is stored after `after`, then what comes live, in batches. `ended` is called when the
   * stream ends, whoever ended it. Returns the function that stops it.
   */
  subscribe(
    after: C | null,
    sink: { batch(batch: CursorBatch<T, C>): void; error(error: unknown): void; ended(): void },
  ): () => void;
  /** One page of what is stored after `after`. */
  page(after: C | null): Promise<CursorPage<T, C>>;
}

/** How the page can reach the server now (from the connection indicator's state). */
export type Transport = 'subscription' | 'polling' | 'none';

export interface CursorFollowerOptions<T> {
  /** Receives new items in order of arrival, possibly overlapping earlier ones. */
  deliver(items: readonly T[]): void;
  /** Whether the run is known to be over; polling stops once it is and nothing more is stored. */
  runFinished(): boolean;
  onComplete(): void;
  onError(error: unknown): void;
  /** Between polls of the query. */
  pollMs: number;
  /** Before subscribing again when the server ended the stream early (e.g. it is shutting down). */
  resubscribeMs: number;
}

export class CursorFollower<T, C> {
  /** The last cursor the server gave: where the next subscription or page starts. */
  cursor: C | null = null;
  complete = false;
  private transport: Transport = 'none';
  private epoch = -1;
  private stopCurrent: () => void = () => undefined;
  // Bumped on every change of transport, so the callbacks of a stopped one are ignored.
  private generation = 0;

  constructor(
    private readonly source: CursorSource<T, C>,
    private readonly options: CursorFollowerOptions<T>,
  ) {}
  /**
   * Follows over `transport`. `epoch` counts the sockets the page has had: a new one means any
   * subscription made on an earlier socket is gone (or would be replayed by the client from its
   * original cursor), so the subscription starts over from the current cursor.
   */
  use(transport: Transport, epoch: number): void {
    if (this.complete) return;
    if (transport === this.transport && (transport !== 'subscription' || epoch === this.epoch)) return;
    // A new generation first: the stopped stream's callbacks (its end, say) must already be stale.
    const generation = ++this.generation;
    this.stopCurrent();
    this.transport = transport;
    this.epoch = epoch;
    if (transport === 'subscription') this.subscribe(generation);
    else if (transport === 'polling') this.stopCurrent = this.poll(generation);
    else this.stopCurrent = () => undefined;
  }

  stop(): void {
    this.generation++;
    this.stopCurrent();
    this.stopCurrent = () => undefined;
    this.transport = 'none';
  }

  private accept(items: readonly T[], cursor: C | null): void {
    if (items.length > 0) this.options.deliver(items);
    if (cursor !== null) this.cursor = cursor;
  }

  private finish(): void {
    this.complete = true;
    this.stop();
    this.options.onComplete();
  }

  private subscribe(generation: number): void {
    let retry: ReturnType<typeof setTimeout> | undefined;
    let unsubscribe: () => void = () => undefined;
    const current = () => generation === this.generation;
    const start = () => {
      unsubscribe = this.source.subscribe(this.cursor, {
        batch: (batch) => {
          if (!current()) return;
          this.accept(batch.items, batch.cursor);
          if (batch.complete) this.finish();
        },
        error: (error) => {
          if (current()) this.options.onError(error);
        },
        ended: () => {
          if (!current() || this.complete) return;
          retry = setTimeout(() => {
            if (current()) start();
          }, this.options.resubscribeMs);
        },
      });
    };
    this.stopCurrent = () => {
      clearTimeout(retry);
      unsubscribe();
    };
    start();
  }

  private poll(generation: number): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const current = () => generation === this.generation;
    const tick = async () => {
      try {
        // Read before the page: a run seen finished before it means the page holds what it left.
        const finished = this.options.runFinished();
        const page = await this.source.page(this.cursor);
        if (!current()) return;
        this.accept(page.items, page.cursor);
        if (page.hasMore) {
          void tick();
          return;
        }
        if (finished) {
          this.finish();
          return;
        }
      } catch (error) {
        if (!current()) return;
        this.options.onError(error);
      }
      timer = setTimeout(() => void tick(), this.options.pollMs);
    };
    void tick();
    return () => clearTimeout(timer);
  }
}
