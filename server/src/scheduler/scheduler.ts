import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { LimitsService } from '../billing/limits.service.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import type { Logger } from '../logger.js';
import type { SecretService } from '../secrets/secret.service.js';
import { fireDueSchedules } from './cron.js';
import { runDispatchPass } from './dispatcher.js';
import { LeaderElection } from './leader.js';
import { SchedulerMaintenance } from './maintenance.js';
import { SCHEDULER_CHANNEL } from './notify.js';

export interface SchedulerConfig {
  /** How often the leader sweeps for time-based work (due jobs, cron, timeouts, lost spawns). */
  sweepMs: number;
  /** How often a standby tries to become the leader. */
  leaderRetryMs: number;
  /** How long past a run's deadline the server waits for its agent before timing it out itself. */
  timeoutGraceSeconds: number;
}

export interface SchedulerDeps {
  orm: MikroORM;
  /** For the leader's own connection, outside the ORM's pool. */
  databaseUrl: string;
  pubSub: DaestroPubSub;
  log: Logger;
  secretsFor: (em: EntityManager) => SecretService;
  limits?: LimitsService;
}

/** "schd": the session advisory lock whose holder is the scheduler leader. */
const LEADER_LOCK_KEY = 0x73636864;

/**
 * Runs in every server process; the one holding the leader lock dispatches.
 * Work is coalesced: at most one pass runs and one more is queued, however many
 * notifications arrive meanwhile. Errors are logged and retried by the next sweep.
 */
export class Scheduler {
  private readonly leader: LeaderElection;
  private readonly limits: LimitsService;
  private readonly log: Logger;
  private sweepTimer: NodeJS.Timeout | undefined;
  private passQueued = false;
  private sweepQueued = false;
  private cancelsQueued = false;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly config: SchedulerConfig,
  ) {
    this.log = deps.log.child({ component: 'scheduler' });
    this.limits = deps.limits ?? new LimitsService();
    this.leader = new LeaderElection({
      databaseUrl: deps.databaseUrl,
      lockKey: LEADER_LOCK_KEY,
      retryMs: config.leaderRetryMs,
      log: this.log,
      channels: [SCHEDULER_CHANNEL],
      onNotification: (_channel, reason) => this.request({ cancels: reason === 'job.cancelled' }),
      onElected: () => this.request({ sweep: true }),
      onDemoted: () => undefined,
    });
  }

  /** Counters since start, for logs and benchmarks. */
  readonly stats = { passes: 0, admitted: 0, placed: 0 };

  get isLeader(): boolean {
    return this.leader.isLeader;
  }

  start(): void {
    this.stopped = false;
    this.leader.start();
    this.sweepTimer = setInterval(() => this.request({ sweep: true }), this.config.sweepMs);
    this.sweepTimer.unref();
  }

  /** Stops sweeping, lets the pass in flight finish, then steps down. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    await this.running;
    await this.leader.stop();
  }

  /** Resolves once no pass is running or queued (tests wait on it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Asks for a dispatch pass; first, with `sweep`, the time-based work, and with
   * `cancels`, the cancelled jobs' unclaimed runs. Ignored unless leading.
   */
  request(work: { sweep?: boolean; cancels?: boolean } = {}): void {
    if (this.stopped || !this.leader.isLeader) return;
    this.passQueued = true;
    this.sweepQueued ||= work.sweep === true;
    this.cancelsQueued ||= work.cancels === true;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.passQueued && this.leader.isLeader && !this.stopped) {
      this.passQueued = false;
      const sweep = this.sweepQueued;
      const cancels = this.cancelsQueued || sweep;
      this.sweepQueued = false;
      this.cancelsQueued = false;
      try {
        const maintenance = new SchedulerMaintenance(this.deps.orm.em, this.deps.pubSub, {
          timeoutGraceSeconds: this.config.timeoutGraceSeconds,
        });
        if (sweep) await this.sweep(maintenance);
        // A run no agent claimed yet is cancelled with its job at once.
        if (cancels) await maintenance.cancelUnclaimedRuns();
        const result = await runDispatchPass(this.deps.orm.em, {
          pubSub: this.deps.pubSub,
          limits: this.limits,
          fence: (em) => this.leader.fence(em),
        });
        this.stats.passes += 1;
        this.stats.admitted += result.admitted;
        this.stats.placed += result.placed;
        if (result.more) this.passQueued = true;
        if (result.placed > 0 || result.admitted > 0) {
          this.log.debug({ admitted: result.admitted, placed: result.placed }, 'dispatch pass');
        }
      } catch (error) {
        this.log.error({ err: error }, 'scheduler pass failed; the next sweep retries');
      }
    }
  }

  /** Time-based work; each step is guarded in SQL, so a former leader still finishing one does no harm. */
  private async sweep(maintenance: SchedulerMaintenance): Promise<void> {
    const fired = await fireDueSchedules(this.deps.orm.em, {
      pubSub: this.deps.pubSub,
      secretsFor: this.deps.secretsFor,
    });
    const runsOfLostSpawns = await maintenance.markLostSpawns();
    const timedOut = await maintenance.timeOutOverdueRuns();
    if (fired.size > 0 || runsOfLostSpawns > 0 || timedOut > 0) {
      this.log.info({ schedules: fired.size, runsOfLostSpawns, timedOut }, 'scheduler sweep');
    }
  }
}
