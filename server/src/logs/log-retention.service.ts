import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Organization } from '../accounts/organization.entity.js';
import { PLAN_LIMITS, type PlanCode } from '../billing/plans.js';
import type { Logger } from '../logger.js';
import type { JobQueue } from '../queue/job-queue.js';

const MIB = 1024 * 1024;
const DAY_MS = 86_400_000;
/** Runs purged or evicted per statement, so no transaction holds locks on a whole backlog. */
const RUNS_PER_STATEMENT = 200;

/** Background jobs (pg-boss): retention once a day (in the 03:00 UTC hour), the storage quota every hour. */
export const LOG_RETENTION_QUEUE = 'logs.retention';
export const LOG_QUOTA_QUEUE = 'logs.quota';
const RETENTION_HOUR_UTC = 3;
const HOUR_SECONDS = 3_600;
/** How often each server asks for the jobs; pg-boss sends each once per hour, however many ask. */
const ASK_EVERY_MS = 5 * 60_000;

/** An organization's log storage against its plan. */
export interface LogStorageUsage {
  organizationId: string;
  plan: PlanCode;
  usedBytes: number;
  quotaBytes: number;
  retentionDays: number;
}

/**
 * What the privacy policy promises about logs: they are kept for the plan's
 * retention days and within its storage quota, then deleted. Usage is the sum
 * of job_run.log_bytes (LogService counts each line's bytes as it stores it),
 * so no check scans the lines themselves; deletes go by run, in bulk.
 */
export class LogRetentionService {
  constructor(
    private readonly em: EntityManager,
    /** `now`: injected by tests (a fake clock); the real clock otherwise. */
    private readonly deps: { now?: () => Date } = {},
  ) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Usage against the quota of an organization the caller was allowed to see. */
  async usage(organization: Organization): Promise<LogStorageUsage> {
    const [row] = await this.em.execute<{ bytes: string }[]>(
      `select coalesce(sum(r.log_bytes), 0) as bytes from job_run r
       join job j on j.id = r.job_id join project p on p.id = j.project_id
       where p.organization_id = ?`,
      [organization.id],
    );
    const limits = PLAN_LIMITS[organization.plan];
    return {
      organizationId: organization.id,
      plan: organization.plan,
      usedBytes: Number(row!.bytes),
      quotaBytes: limits.logStorageMiB * MIB,
      retentionDays: limits.logRetentionDays,
    };
  }

  /**
   * Deletes the lines and metric samples of runs that finished longer ago than
   * their organization's plan keeps them. A run still going keeps everything
   * until it has been finished that long. Returns how many runs were purged.
   */
  async purgeExpired(): Promise<number> {
    const now = this.now();
    const retention = Object.entries(PLAN_LIMITS).map(([plan, limits]) => [plan, limits.logRetentionDays]);
    const shortest = Math.min(...retention.map(([, days]) => days as number));
    let purged = 0;
    for (;;) {
      const rows = await this.em.execute<{ id: string }[]>(
        `with retention (plan, days) as (select * from jsonb_to_recordset(?::jsonb) as r(plan text, days int)),
         expired as (
           select r.id from job_run r
           join job j on j.id = r.job_id join project p on p.id = j.project_id
           join organization o on o.id = p.organization_id join retention on retention.plan = o.plan
           where r.data_purged_at is null and r.finished_at < ?
             and r.finished_at < ?::timestamptz - make_interval(days => retention.days)
           order by r.finished_at limit ? for update of r skip locked),
         lines as (delete from run_log_chunk where run_id in (select id from expired)),
         samples as (delete from run_metric_sample where run_id in (select id from expired))
         update job_run set data_purged_at = ?, log_bytes = 0 where id in (select id from expired) returning id`,
        [
          JSON.stringify(retention.map(([plan, days]) => ({ plan, days }))),
          new Date(now.getTime() - shortest * DAY_MS),
          now,
          RUNS_PER_STATEMENT,
          now,
        ],
      );
      purged += rows.length;
      if (rows.length < RUNS_PER_STATEMENT) return purged;
    }
  }

  /**
   * For every organization past its plan's log storage, deletes the logs of its
   * oldest finished runs until it is back within it; each such run keeps one
   * SYSTEM line saying so. Running runs are never touched. Returns how many runs.
   */
  async enforceQuotas(): Promise<number> {
    const usage = await this.em.execute<{ organization_id: string; plan: PlanCode; bytes: string }[]>(
      `select p.organization_id, o.plan, sum(r.log_bytes) as bytes from job_run r
       join job j on j.id = r.job_id join project p on p.id = j.project_id
       join organization o on o.id = p.organization_id
       group by p.organization_id, o.plan`,
    );
    let evicted = 0;
    for (const row of usage) {
      const quota = PLAN_LIMITS[row.plan].logStorageMiB * MIB;
      const excess = Number(row.bytes) - quota;
      if (excess > 0) evicted += await this.evictOldest(row.organization_id, row.plan, excess);
    }
    return evicted;
  }

  private async evictOldest(organizationId: string, plan: PlanCode, excess: number): Promise<number> {
    const note =
      `[Daestro] This run's log was deleted on ${this.now().toISOString().slice(0, 10)}: the organization ` +
      `passed the ${PLAN_LIMITS[plan].logStorageMiB} MiB of log storage its ${plan} plan includes, and the ` +
      'logs of the oldest finished runs go first.';
    let freed = 0;
    let evicted = 0;
    while (freed < excess) {
      // Oldest first, only as many as the excess needs: the running total stops the list.
      const victims = await this.em.execute<{ id: string; log_bytes: string }[]>(
        `select id, log_bytes from (
           select r.id, r.log_bytes, sum(r.log_bytes) over (order by r.finished_at, r.id) - r.log_bytes as before
           from job_run r join job j on j.id = r.job_id join project p on p.id = j.project_id
           where p.organization_id = ? and r.finished_at is not null and r.log_evicted_at is null
             and r.data_purged_at is null and r.log_bytes > 0
           order by r.finished_at, r.id limit ?) oldest
         where before < ?`,
        [organizationId, RUNS_PER_STATEMENT, excess - freed],
      );
      if (victims.length === 0) return evicted;
      const noted = await this.em.execute<{ id: string }[]>(
        `with victim as (
           select r.id, coalesce((select max(last_seq) from run_log_chunk c where c.run_id = r.id), 0) as last_seq
           from job_run r where r.id = any(?::uuid[]) and r.log_evicted_at is null for update),
         gone as (delete from run_log_chunk c using victim where c.run_id = victim.id),
         note as (
           insert into run_log_chunk (run_id, first_seq, last_seq, streams, timestamps, texts)
           select victim.id, victim.last_seq + 1, victim.last_seq + 1, '{SYSTEM}', array[?::timestamptz], array[?] from victim
           returning run_id, last_seq as seq, octet_length(texts[1]) as bytes)
         update job_run r set log_evicted_at = ?, log_bytes = note.bytes, log_stored_through = note.seq
         from note where r.id = note.run_id returning r.id`,
        [`{${victims.map((victim) => victim.id).join(',')}}`, this.now(), note, this.now()],
      );
      evicted += noted.length;
      const notedIds = new Set(noted.map((run) => run.id));
      for (const victim of victims) if (notedIds.has(victim.id)) freed += Number(victim.log_bytes);
      if (noted.length === 0) return evicted;
    }
    return evicted;
  }
}

/**
 * Works the retention and quota jobs in this process and asks for them every five
 * minutes (pg-boss sends each once per hour, whichever replica asks first; retention
 * only in the 03:00 UTC hour). Returns the function that stops asking.
 */
export async function registerLogRetention(queue: JobQueue, orm: MikroORM, log: Logger): Promise<() => void> {
  const service = () => new LogRetentionService(orm.em.fork());
  await queue.work(LOG_RETENTION_QUEUE, async () => {
    const runs = await service().purgeExpired();
    log.info({ runs }, 'purged logs and metrics past their retention');
  });
  await queue.work(LOG_QUOTA_QUEUE, async () => {
    const runs = await service().enforceQuotas();
    if (runs > 0) log.info({ runs }, 'deleted the oldest logs of organizations over their log storage');
  });
  const ask = async () => {
    try {
      // pg-boss dedupes for at most 12 hours, so the daily job is asked for in one hour of the day only.
      if (new Date().getUTCHours() === RETENTION_HOUR_UTC)
        await queue.sendOncePer(LOG_RETENTION_QUEUE, HOUR_SECONDS);
      await queue.sendOncePer(LOG_QUOTA_QUEUE, HOUR_SECONDS);
    } catch (error) {
      log.warn({ err: error }, 'could not ask for the log retention jobs; asking again later');
    }
  };
  await ask();
  const timer = setInterval(() => void ask(), ASK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
