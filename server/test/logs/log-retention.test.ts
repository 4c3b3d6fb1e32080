import { beforeAll, describe, expect, it } from 'vitest';
import type { RunLease } from '../../src/agents/run-lease.js';
import { Organization } from '../../src/accounts/organization.entity.js';
import { PLAN_LIMITS, PlanCode } from '../../src/billing/plans.js';
import { LogRetentionService } from '../../src/logs/log-retention.service.js';
import { LogService } from '../../src/logs/log.service.js';
import { RunFeeds } from '../../src/logs/run-feeds.js';
import { MetricService } from '../../src/metrics/metric.service.js';
import { JobRun } from '../../src/workloads/job-run.entity.js';
import { openSchedulerTestbed, silentLog, type Testbed } from '../scheduler/fixtures.js';
import { STORED_LOG_LINES, finishRun, heldRun, logLines, type HeldRun } from './fixtures.js';

// Retention and quota against a fake clock: runs finish "now" in the database,
// then finished_at is moved into the past and the service is given its own `now`.

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

const DAY = 86_400_000;
const MIB = 1024 * 1024;
const NOW = new Date('2026-12-15T03:17:00Z');
const daysBefore = (days: number, from = NOW) => new Date(from.getTime() - days * DAY);

const visibleRuns = {
  getRun: (_viewer: unknown, runId: string) => testbed.em.findOneOrFail(JobRun, { id: runId }),
};
const deps = () => ({
  runs: visibleRuns,
  pubSub: testbed.pubSub,
  feeds: new RunFeeds({ pubSub: testbed.pubSub, em: testbed.orm.em, log: silentLog }),
});
const retention = (now: Date) => new LogRetentionService(testbed.em, { now: () => now });

/** A run with three log lines and one metric sample, finished `daysAgo` before NOW (or still running: null). */
async function runWithData(where: Parameters<typeof heldRun>[1], daysAgo: number | null): Promise<HeldRun> {
  const held = await heldRun(testbed, where);
  await new LogService(testbed.em, deps()).append(held.agent, held.lease, logLines(1, 3));
  await new MetricService(testbed.em, deps()).append(held.agent, held.lease, [
    { timestamp: new Date(), cpuPercent: 1, memoryBytes: 1, memoryLimitBytes: 0 },
  ]);
  if (daysAgo !== null) {
    await finishRun(testbed, held.lease);
    await testbed.sql('update job_run set finished_at = ? where id = ?', [
      daysBefore(daysAgo),
      held.lease.runId,
    ]);
  }
  return held;
}

async function stored(lease: RunLease) {
  const [row] = await testbed.sql<{
    lines: number;
    samples: number;
    log_bytes: string;
    data_purged_at: Date | null;
    log_evicted_at: Date | null;
  }>(
    `select (select count(*)::int from (${STORED_LOG_LINES}) line where run_id = r.id) as lines,
       (select count(*)::int from run_metric_sample where run_id = r.id) as samples,
       r.log_bytes, r.data_purged_at, r.log_evicted_at
     from job_run r where r.id = ?`,
    [lease.runId],
  );
  return row!;
}

async function logTexts(lease: RunLease): Promise<{ seq: number; stream: string; text: string }[]> {
  return testbed.sql(
    `select seq, stream, text from (${STORED_LOG_LINES}) line where run_id = ? order by seq`,
    [lease.runId],
  );
}

describe('log storage accounting', () => {
  it('counts the UTF-8 bytes of each stored line once, resends included', async () => {
    const held = await heldRun(testbed, {});
    const logs = new LogService(testbed.em, deps());
    const texts = ['abc', 'ünï', '🚀'];
    const batch = texts.map((text, index) => ({
      seq: index + 1,
      stream: logLines(1, 1)[0]!.stream,
      timestamp: new Date().toISOString(),
      text,
    }));
    await logs.append(held.agent, held.lease, batch);
    await logs.append(held.agent, held.lease, batch);
    expect(Number((await stored(held.lease)).log_bytes)).toBe(3 + 5 + 4);
    const organization = await testbed.em.findOneOrFail(Organization, { id: held.organizationId });
    expect(await retention(NOW).usage(organization)).toEqual({
      organizationId: held.organizationId,
      plan: PlanCode.TEAM,
      usedBytes: 12,
      quotaBytes: PLAN_LIMITS.TEAM.logStorageMiB * MIB,
      retentionDays: PLAN_LIMITS.TEAM.logRetentionDays,
    });
  });
});

describe('retention', () => {
  it('deletes logs and metrics of runs finished longer ago than the plan keeps them, and nothing else', async () => {
    const freeOld = await runWithData({ plan: PlanCode.FREE }, 1.5);
    const freeRecent = await runWithData({ plan: PlanCode.FREE }, 0.5);
    const proOld = await runWithData({ plan: PlanCode.PRO }, 1.5);
    const freeRunning = await runWithData({ plan: PlanCode.FREE }, null);
    await testbed.sql("update job_run set started_at = now() - interval '10 days' where id = ?", [
      freeRunning.lease.runId,
    ]);

    expect(await retention(NOW).purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await stored(freeOld.lease)).toMatchObject({ lines: 0, samples: 0, log_bytes: '0' });
    expect(new Date((await stored(freeOld.lease)).data_purged_at!)).toEqual(NOW);
    for (const kept of [freeRecent, proOld, freeRunning]) {
      expect(await stored(kept.lease)).toMatchObject({ lines: 3, samples: 1, data_purged_at: null });
    }

    // A day later the recent FREE run is past its day; the PRO run keeps its 30.
    await retention(new Date(NOW.getTime() + DAY)).purgeExpired();
    expect((await stored(freeRecent.lease)).lines).toBe(0);
    expect((await stored(proOld.lease)).lines).toBe(3);
    await retention(new Date(NOW.getTime() + 29 * DAY)).purgeExpired();
    expect(await stored(proOld.lease)).toMatchObject({ lines: 0, samples: 0 });
    expect((await stored(freeRunning.lease)).lines).toBe(3);
    // Purged runs are not purged again.
    expect(await retention(new Date(NOW.getTime() + 29 * DAY)).purgeExpired()).toBe(0);
  });
});

describe('storage quota', () => {
  it('deletes the oldest finished runs’ logs until the organization is within its quota, leaving a SYSTEM line', async () => {
    const quota = PLAN_LIMITS.FREE.logStorageMiB * MIB;
    const oldest = await runWithData({ plan: PlanCode.FREE }, 0.9);
    const { project, organizationId } = oldest;
    const older = await runWithData({ project }, 0.5);
    const newest = await runWithData({ project }, 0.1);
    const running = await runWithData({ project }, null);
    // Byte counts standing in for real text: 600 MiB finished and 100 MiB running against 500 MiB.
    const bytes: [HeldRun, number][] = [
      [oldest, 150 * MIB],
      [older, 250 * MIB],
      [newest, 200 * MIB],
      [running, 100 * MIB],
    ];
    for (const [held, size] of bytes) {
      await testbed.sql('update job_run set log_bytes = ? where id = ?', [size, held.lease.runId]);
    }

    const evicted = await retention(NOW).enforceQuotas();
    expect(evicted).toBe(2);
    // 700 MiB - 500 MiB = 200 MiB over: the oldest (150) is not enough, the next (250) is; the newest stays.
    for (const gone of [oldest, older]) {
      const texts = await logTexts(gone.lease);
      expect(texts).toHaveLength(1);
      expect(texts[0]).toMatchObject({ seq: 4, stream: 'SYSTEM' });
      expect(texts[0]!.text).toMatch(/500 MiB of log storage its FREE plan includes/);
      const row = await stored(gone.lease);
      expect(new Date(row.log_evicted_at!)).toEqual(NOW);
      expect(Number(row.log_bytes)).toBe(Buffer.byteLength(texts[0]!.text));
      expect(row.samples).toBe(1);
      expect((await testbed.em.findOneOrFail(JobRun, { id: gone.lease.runId })).logStoredThrough).toBe(4);
    }
    expect((await logTexts(newest.lease)).map((line) => line.text)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(await logTexts(running.lease)).toHaveLength(3);

    const organization = await testbed.em.findOneOrFail(Organization, { id: organizationId });
    const usage = await retention(NOW).usage(organization);
    expect(usage.usedBytes).toBeLessThanOrEqual(quota);
    // Within the quota now: nothing more goes.
    expect(await retention(NOW).enforceQuotas()).toBe(0);
  });
});
