import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from '../accounts/viewer.js';
import type { DaestroEvents, DaestroPubSub } from '../graphql/pubsub.js';
import type { Logger } from '../logger.js';
import type { RunReader } from './log.service.js';
import { TERMINAL_RUN_STATES } from '../workloads/job-state.js';
import type { JobRunState } from '../workloads/job-state.js';

/** The run a live stream follows, as the caller was allowed to see it. */
export interface RunRef {
  id: string;
  jobId: string;
  projectId: string;
}

/** What the database says of a run now. */
export interface RunProgress {
  terminal: boolean;
  /** Every log line up to this seq is stored. */
  logStoredThrough: number;
}

export type RunTopic = 'run.log' | 'run.metrics';
export type RunTopicEvent<T extends RunTopic> = DaestroEvents[T][1];

export interface RunFeedListener<T extends RunTopic> {
  /** An event of the topic, shared by every listener: do not change it. */
  event(event: RunTopicEvent<T>): void;
  progress(progress: RunProgress): void;
}

/** How often a followed run's state is read even when no job event came (one lost on the bus, say). */
const DEFAULT_PROGRESS_POLL_MS = 2_000;

interface FollowedRun {
  run: RunRef;
  listeners: Map<RunTopic, Set<RunFeedListener<RunTopic>>>;
  unsubscribes: Map<RunTopic, () => void>;
  stopJobEvents: () => void;
  poll: NodeJS.Timeout;
  checking: boolean;
  checkAgain: boolean;
}

/**
 * One per server process: for each run someone here follows, one subscription
 * to its topics on the bus and one watch on its state, shared by every local
 * subscriber (a thousand viewers of one run cost one bus subscription and one
 * state query per change, not a thousand).
 */
export class RunFeeds {
  private readonly followed = new Map<string, FollowedRun>();
  private readonly pollMs: number;

  constructor(
    private readonly deps: { pubSub: DaestroPubSub; em: EntityManager; log: Logger; progressPollMs?: number },
  ) {
    this.pollMs = deps.progressPollMs ?? DEFAULT_PROGRESS_POLL_MS;
  }

  /**
   * Delivers the run's `topic` events and its progress to `listener` until the
   * returned function is called. The bus subscription is in place when this
   * returns (in-process at once; over Redis once the SUBSCRIBE reaches it, which
   * is why readers repair gaps from storage).
   */
  join<T extends RunTopic>(run: RunRef, topic: T, listener: RunFeedListener<T>): () => void {
    const followed = this.followed.get(run.id) ?? this.follow(run);
    let listeners = followed.listeners.get(topic);
    if (!listeners) {
      listeners = new Set();
      followed.listeners.set(topic, listeners);
      followed.unsubscribes.set(
        topic,
        consume(subscribeToRun(this.deps.pubSub, topic, run.id), (event) => {
          for (const each of followed.listeners.get(topic) ?? []) each.event(event);
        }),
      );
    }
    const added = listener as RunFeedListener<RunTopic>;
    listeners.add(added);
    return () => {
      listeners.delete(added);
      if (listeners.size === 0 && followed.listeners.get(topic) === listeners) {
        followed.listeners.delete(topic);
        followed.unsubscribes.get(topic)?.();
        followed.unsubscribes.delete(topic);
      }
      if (followed.listeners.size === 0) this.unfollow(followed);
    };
  }

  /** How many runs this process follows now. */
  get followedRuns(): number {
    return this.followed.size;
  }

  /** Stops every watch (server shutdown); open streams end when their sockets close. */
  close(): void {
    for (const followed of this.followed.values()) this.unfollow(followed);
  }

  private follow(run: RunRef): FollowedRun {
    const followed: FollowedRun = {
      run,
      listeners: new Map(),
      unsubscribes: new Map(),
      stopJobEvents: () => undefined,
      poll: setInterval(() => void this.check(followed), this.pollMs),
      checking: false,
      checkAgain: false,
    };
    followed.poll.unref();
    // A run ends with its job's transition (run-settlement.ts): check at once, not at the next poll.
    followed.stopJobEvents = consume(this.deps.pubSub.subscribe('job.event', run.projectId), (event) => {
      if (event.jobId === run.jobId) void this.check(followed);
    });
    this.followed.set(run.id, followed);
    return followed;
  }

  private unfollow(followed: FollowedRun): void {
    clearInterval(followed.poll);
    followed.stopJobEvents();
    for (const unsubscribe of followed.unsubscribes.values()) unsubscribe();
    followed.unsubscribes.clear();
    followed.listeners.clear();
    if (this.followed.get(followed.run.id) === followed) this.followed.delete(followed.run.id);
  }

  /** One state query at a time per run; a change seen meanwhile asks for one more. */
  private async check(followed: FollowedRun): Promise<void> {
    if (followed.checking) {
      followed.checkAgain = true;
      return;
    }
    followed.checking = true;
    try {
      do {
        followed.checkAgain = false;
        const progress = await readRunProgress(this.deps.em.fork(), followed.run.id);
        if (!progress) return;
        for (const listeners of followed.listeners.values())
          for (const listener of listeners) listener.progress(progress);
      } while (followed.checkAgain);
    } catch (error) {
      this.deps.log.warn({ err: error, runId: followed.run.id }, 'could not read a followed run’s state');
    } finally {
      followed.checking = false;
    }
  }
}

/** A run the viewer may read (NOT_FOUND otherwise), with what a live stream needs to follow it. */
export async function readableRun(
  em: EntityManager,
  runs: RunReader,
  viewer: Viewer,
  runId: string,
): Promise<RunRef & { jobName: string; attempt: number }> {
  const run = await runs.getRun(viewer, runId);
  const [job] = await em.execute<{ id: string; project_id: string; name: string }[]>(
    'select j.id, j.project_id, j.name from job j where j.id = (select job_id from job_run where id = ?)',
    [run.id],
  );
  return { id: run.id, jobId: job!.id, projectId: job!.project_id, jobName: job!.name, attempt: run.attempt };
}

export async function readRunProgress(em: EntityManager, runId: string): Promise<RunProgress | undefined> {
  const [row] = await em.execute<{ state: JobRunState; log_stored_through: number }[]>(
    'select state, log_stored_through from job_run where id = ?',
    [runId],
  );
  return (
    row && { terminal: TERMINAL_RUN_STATES.includes(row.state), logStoredThrough: row.log_stored_through }
  );
}

// Both run topics are keyed by run id; TypeScript cannot tell from a generic topic.
const subscribeToRun = (pubSub: DaestroPubSub, topic: RunTopic, runId: string) =>
  (pubSub.subscribe as (topic: RunTopic, runId: string) => AsyncIterable<RunTopicEvent<RunTopic>>)(
    topic,
    runId,
  );

/**
 * Feeds every value of a bus subscription to `onValue` as it comes, and returns
 * the function that ends it. The first next() attaches the bus listener at once
 * (the repeater starts synchronously), so nothing published after this call is missed.
 */
function consume<T>(subscription: AsyncIterable<T>, onValue: (value: T) => void): () => void {
  const iterator = subscription[Symbol.asyncIterator]();
  void (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      onValue(next.value);
    }
  })();
  return () => void iterator.return?.();
}
