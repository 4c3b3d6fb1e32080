import PgBoss from 'pg-boss';
import type { Logger } from '../logger.js';

/** Background jobs (mail, purges, exports) on PostgreSQL through pg-boss, in the `pgboss` schema. */
export interface JobQueue {
  /** Enqueues one job; resolves with its id once it is stored. */
  send<T extends object>(name: string, data: T, options?: SendJobOptions): Promise<string>;
  /**
   * Sends a job of `name` (no data) unless one was already sent in the current slot
   * of `seconds`, whichever process asks: slots are aligned to the epoch (3,600 is a
   * UTC hour; at most 43,200, pg-boss's archive interval) and pg-boss keeps one job
   * per name and slot. Resolves with whether this call sent it. For periodic
   * maintenance that every replica may ask for.
   */
  sendOncePer(name: string, seconds: number): Promise<boolean>;
  /** Runs `handler` for each job of `name` in this process until stop(). */
  work<T extends object>(name: string, handler: JobHandler<T>, options?: WorkOptions): Promise<void>;
  /**
   * Stops fetching and waits for running jobs; at the timeout (default 10 s) the jobs
   * still running are marked failed, to be retried, and the connections are closed.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

export interface QueuedJob<T> {
  id: string;
  name: string;
  data: T;
  /** 0 on the first attempt, 1 on the first retry, … */
  retryCount: number;
  retryLimit: number;
}

/** Resolves when the job is done; a throw fails this attempt, and the job is retried while retries remain. */
export type JobHandler<T> = (job: QueuedJob<T>) => Promise<void>;

export interface SendJobOptions {
  /** Retries after the first attempt (pg-boss's default is 2). */
  retryLimit?: number;
  /** Seconds before a retry; with retryBackoff, the base of an exponential, jittered delay. */
  retryDelaySeconds?: number;
  retryBackoff?: boolean;
  /** An attempt still running after this long is failed (and retried); pg-boss's default is 15 minutes. */
  expireInSeconds?: number;
  /** Seconds to wait before the first attempt. */
  startAfterSeconds?: number;
}

export interface WorkOptions {
  /** Jobs fetched (and run concurrently) per poll. */
  batchSize?: number;
  /** How often an idle worker looks for jobs sent by other processes (at least 0.5). */
  pollingIntervalSeconds?: number;
  /**
   * Delete a job once it succeeds instead of archiving it, for payloads that
   * should not outlive their use (mail bodies hold single-use links).
   */
  deleteOnSuccess?: boolean;
}

export const JOB_QUEUE_SCHEMA = 'pgboss';
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * Starts pg-boss on the given database (creating or upgrading its schema under
 * pg-boss's own advisory lock, so replicas may start together).
 */
export async function startJobQueue(options: {
  databaseUrl: string;
  log: Logger;
  /** Connections pg-boss may open, apart from the ORM's pool. */
  maxConnections?: number;
}): Promise<JobQueue> {
  const log = options.log.child({ component: 'job-queue' });
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema: JOB_QUEUE_SCHEMA,
    application_name: 'daestro-jobs',
    max: options.maxConnections ?? 4,
    // Cron schedules poll the database on their own; off until a job needs one.
    schedule: false,
  });
  // An EventEmitter 'error' without a listener would crash the process; these are
  // failed polls and maintenance runs (e.g. while the database restarts), retried by pg-boss.
  boss.on('error', (error) => log.error({ err: error }, 'job queue error'));
  await boss.start();
  log.info({ schema: JOB_QUEUE_SCHEMA }, 'job queue started');

  const createdQueues = new Map<string, Promise<void>>();
  let lastCreation: Promise<unknown> = Promise.resolve();
  // pg-boss 10 refuses send() and work() on a queue that was never created. Its create_queue
  // attaches a partition to the job table, so two creations at once deadlock: this process
  // creates one queue at a time, and a creation PostgreSQL picked as the victim of a deadlock
  // with another replica is tried again (it is idempotent and rolled back whole).
  const ensureQueue = (name: string) => {
    let created = createdQueues.get(name);
    if (!created) {
      created = lastCreation
        .then(() => createQueueDespiteDeadlocks(boss, name))
        .catch((error: unknown) => {
          createdQueues.delete(name);
          throw error;
        });
      lastCreation = created.catch(() => undefined);
      createdQueues.set(name, created);
    }
    return created;
  };
  const workerIds = new Map<string, string[]>();
  let stopping: Promise<void> | undefined;

  return {
    async send(name, data, sendOptions = {}) {
      await ensureQueue(name);
      const id = await boss.send(name, data, toPgBossSendOptions(sendOptions));
      // pg-boss answers null only for throttled or singleton sends, which this wrapper does not make.
      if (id === null) throw new Error(`job queue ${name} did not store the job`);
      // A worker of this process picks the job up now instead of at its next poll.
      for (const workerId of workerIds.get(name) ?? []) boss.notifyWorker(workerId);
      return id;
    },

    async sendOncePer(name, seconds) {
      await ensureQueue(name);
      const id = await boss.send(name, {}, { singletonKey: name, singletonSeconds: seconds });
      if (id !== null) for (const workerId of workerIds.get(name) ?? []) boss.notifyWorker(workerId);
      return id !== null;
    },

    async work<T extends object>(name: string, handler: JobHandler<T>, workOptions: WorkOptions = {}) {
      await ensureQueue(name);
      const { batchSize = 1, pollingIntervalSeconds, deleteOnSuccess = false } = workOptions;
      const workerId = await boss.work<T>(
        name,
        {
          batchSize,
          includeMetadata: true,
          ...(pollingIntervalSeconds !== undefined && { pollingIntervalSeconds }),
        },
        // Each job of a batch succeeds or fails on its own: pg-boss would otherwise
        // fail (and retry) the whole batch when one job throws. The final completion
        // pg-boss issues for the batch then finds no active job left and changes nothing.
        (jobs) => Promise.all(jobs.map((job) => runJob(job))).then(() => undefined),
      );
      workerIds.set(name, [...(workerIds.get(name) ?? []), workerId]);

      async function runJob(job: PgBoss.JobWithMetadata<T>): Promise<void> {
        const context = { queue: name, jobId: job.id, attempt: job.retryCount + 1 };
        try {
          await handler({
            id: job.id,
            name: job.name,
            data: job.data,
            retryCount: job.retryCount,
            retryLimit: job.retryLimit,
          });
        } catch (error) {
          const willRetry = job.retryCount < job.retryLimit;
          log[willRetry ? 'warn' : 'error'](
            { ...context, err: error, willRetry },
            willRetry ? 'job failed; it will be retried' : 'job failed; no retries left',
          );
          // Only the message is stored with the job: no stack, no payload.
          const message = error instanceof Error ? error.message : String(error);
          await settle(context, () => boss.fail(name, job.id, { message }));
          return;
        }
        await settle(context, () =>
          deleteOnSuccess ? boss.deleteJob(name, job.id) : boss.complete(name, job.id),
        );
        log.debug(context, 'job done');
      }

      // Never throws: a rejected batch would make pg-boss fail every job in it again.
      // A job whose outcome could not be recorded stays active until it expires, then runs again.
      async function settle(context: object, record: () => Promise<unknown>): Promise<void> {
        try {
          await record();
        } catch (error) {
          log.error({ ...context, err: error }, 'could not record the job outcome; it will run again');
        }
      }
    },

    stop({ timeoutMs = DEFAULT_STOP_TIMEOUT_MS } = {}) {
      // pg-boss waits for running jobs, then fails those still running at the
      // timeout so that another process retries them, then closes its pool.
      stopping ??= boss
        .stop({ graceful: true, wait: true, timeout: timeoutMs })
        .then(() => log.info('job queue stopped'));
      return stopping;
    },
  };
}

function toPgBossSendOptions(options: SendJobOptions): PgBoss.SendOptions {
  const { retryLimit, retryDelaySeconds, retryBackoff, expireInSeconds, startAfterSeconds } = options;
  return {
    ...(retryLimit !== undefined && { retryLimit }),
    ...(retryDelaySeconds !== undefined && { retryDelay: retryDelaySeconds }),
    ...(retryBackoff !== undefined && { retryBackoff }),
    ...(expireInSeconds !== undefined && { expireInSeconds }),
    ...(startAfterSeconds !== undefined && { startAfter: startAfterSeconds }),
  };
}

const DEADLOCK_DETECTED = '40P01';
const QUEUE_CREATION_ATTEMPTS = 8;

async function createQueueDespiteDeadlocks(boss: PgBoss, name: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await boss.createQueue(name);
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK_DETECTED || attempt === QUEUE_CREATION_ATTEMPTS)
        throw error;
      // Jittered, so the replicas that collided do not collide again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * attempt));
    }
  }
}
