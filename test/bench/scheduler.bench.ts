// Scheduler throughput and latency: no-op jobs are submitted (the job row and the
// scheduler notification, in one statement, as submitJob writes them) and a
// simulated agent on 4 spawns claims them (claimRuns), reports them running and
// finishes them, all through the real leader, dispatcher and run lifecycle.
// Baseline in the same run: bare INSERT + UPDATE round trips on the same pool.
// Run with `pnpm bench`.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../server/src/db/ids.js';
import { Scheduler } from '../../server/src/scheduler/scheduler.js';
import { JobRunState } from '../../server/src/workloads/job-state.js';
import { insertJob } from '../../server/src/workloads/job.service.js';
import type { JobDefinition } from '../../server/src/workloads/job-definition.entity.js';
import type { JobQueue } from '../../server/src/workloads/job-queue.entity.js';
import type { ComputeSpawn } from '../../server/src/workloads/compute-spawn.entity.js';
import { openSchedulerTestbed, silentLog, type Testbed } from '../../server/test/scheduler/fixtures.js';

const SPAWNS = 4;
const SLOTS_PER_SPAWN = 64;
const LATENCY_SAMPLES = 200;
const THROUGHPUT_JOBS = 4_000;
const SUBMITTERS = 16;

let testbed: Testbed;
let scheduler: Scheduler;
let queue: JobQueue;
let definition: JobDefinition;
let spawns: ComputeSpawn[];
const agents: SimulatedAgent[] = [];

beforeAll(async () => {
  testbed = await openSchedulerTestbed();
  const project = await testbed.project();
  const environment = await testbed.environment(project, SLOTS_PER_SPAWN);
  spawns = [];
  for (let i = 0; i < SPAWNS; i += 1) spawns.push(await testbed.spawn(environment));
  queue = await testbed.queue(project, [environment]);
  definition = await testbed.definition(project, { command: ['true'] });
  scheduler = new Scheduler(
    {
      orm: testbed.orm,
      databaseUrl: testbed.url,
      pubSub: testbed.pubSub,
      log: silentLog,
      secretsFor: testbed.secretsFor,
    },
    { sweepMs: 1_000, leaderRetryMs: 100, timeoutGraceSeconds: 30 },
  );
  scheduler.start();
  while (!scheduler.isLeader) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const spawn of spawns) agents.push(new SimulatedAgent(spawn.id));
});

afterAll(async () => {
  for (const agent of agents) agent.stop();
  await scheduler?.stop();
});

/**
 * An agent: claims when rung (and on a slow poll, as real agents do), then
 * marks each run running and finishes it at once.
 */
class SimulatedAgent {
  private claiming: Promise<void> | undefined;
  private ringAgain = false;
  private readonly poll: NodeJS.Timeout;
  private readonly subscription: AsyncIterator<unknown>;

  constructor(private readonly spawnId: string) {
    this.subscription = testbed.pubSub.subscribe('agent.wakeup', spawnId)[Symbol.asyncIterator]();
    void this.listen();
    this.poll = setInterval(() => this.ring(), 500);
  }

  stop(): void {
    clearInterval(this.poll);
    void this.subscription.return?.();
  }

  private async listen(): Promise<void> {
    while (!(await this.subscription.next()).done) this.ring();
  }

  private ring(): void {
    if (this.claiming) {
      this.ringAgain = true;
      return;
    }
    this.claiming = this.claimAll().finally(() => {
      this.claiming = undefined;
      if (this.ringAgain) {
        this.ringAgain = false;
        this.ring();
      }
    });
  }

  private async claimAll(): Promise<void> {
    for (;;) {
      const claimed = await testbed.lifecycle().claimRuns(this.spawnId, SLOTS_PER_SPAWN);
      if (claimed.length === 0) return;
      // Runs execute concurrently: each is started and finished on its own.
      for (const run of claimed) void this.execute(run.runId, run.jobId, run.leaseToken);
    }
  }

  private async execute(runId: string, jobId: string, leaseToken: string): Promise<void> {
    const lifecycle = testbed.lifecycle();
    await lifecycle.markRunning(runId, leaseToken);
    onRunning(jobId);
    await lifecycle.finishRun(runId, leaseToken, { outcome: JobRunState.COMPLETED, exitCode: 0 });
    onCompleted(jobId);
  }
}

const running = new Map<string, () => void>();
const completed = new Map<string, () => void>();
const onRunning = (jobId: string) => running.get(jobId)?.();
const onCompleted = (jobId: string) => completed.get(jobId)?.();

/**
 * What submitJob writes once the input is checked (insertJob: the job row and
 * the scheduler's wake-up, in one statement). Resolves when `signals` reports
 * the job (RUNNING or COMPLETED); the waiter is registered before the job exists.
 */
async function submit(signals: Map<string, () => void>): Promise<{ signalled: Promise<void> }> {
  const id = newId();
  const signalled = new Promise<void>((resolve) => signals.set(id, resolve));
  const job = await insertJob(testbed.orm.em.fork(), {
    id,
    project: definition.project,
    queue,
    definition,
    name: `bench-${++submitted}`,
    overrides: { parameters: {}, env: [] },
  });
  if (!job) throw new Error(`job name bench-${submitted} is taken`);
  return { signalled: signalled.finally(() => signals.delete(id)) };
}
let submitted = 0;

/**
 * CPU seconds used so far by this process and by the database's server
 * processes (read from /proc; 0 for PostgreSQL on another host).
 */
async function cpuSeconds(): Promise<{ node: number; postgres: number }> {
  const usage = process.cpuUsage();
  const backends = await testbed.sql<{ pid: number }>(
    'select pid from pg_stat_activity where pid is not null',
  );
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const { pid } of backends) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // Another host's PostgreSQL, or a backend that just exited.
    }
  }
  return { node: (usage.user + usage.system) / 1e6, postgres: ticks / ticksPerSecond };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `work` `count` times over `concurrency` workers; returns the wall time in ms. */
async function concurrently(count: number, concurrency: number, work: (index: number) => Promise<unknown>) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return performance.now() - started;
}

it('measures submit→RUNNING latency and end-to-end jobs/s against raw round trips', async () => {
  // Raw baseline: one INSERT and one UPDATE round trip per "job", on the same pool.
  await testbed.sql('create table bench_baseline (id uuid primary key, state text not null)');
  const rawLatencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
    const started = performance.now();
    const [{ id }] = (await testbed.sql<{ id: string }>(
      `insert into bench_baseline (id, state) values (gen_random_uuid(), 'SUBMITTED') returning id`,
    )) as [{ id: string }];
    await testbed.sql(`update bench_baseline set state = 'RUNNING' where id = ?`, [id]);
    rawLatencies.push(performance.now() - started);
  }
  const rawMs = await concurrently(THROUGHPUT_JOBS, SUBMITTERS, async () => {
    const [{ id }] = (await testbed.sql<{ id: string }>(
      `insert into bench_baseline (id, state) values (gen_random_uuid(), 'SUBMITTED') returning id`,
    )) as [{ id: string }];
    await testbed.sql(`update bench_baseline set state = 'COMPLETED' where id = ?`, [id]);
  });

  // Latency with idle slots: one job at a time, each waited for until RUNNING.
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
    const started = performance.now();
    await (
      await submit(running)
    ).signalled;
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }

  // Throughput: submit a backlog from many clients; done when every job COMPLETED.
  const done: Promise<void>[] = [];
  const cpuBefore = await cpuSeconds();
  const passesBefore = scheduler.stats.passes;
  const startedAll = performance.now();
  const submitMs = await concurrently(THROUGHPUT_JOBS, SUBMITTERS, async () => {
    done.push((await submit(completed)).signalled);
  });
  await Promise.all(done);
  const endToEndMs = performance.now() - startedAll;
  const cpuAfter = await cpuSeconds();
  const passes = scheduler.stats.passes - passesBefore;
  const nodeCpuMsPerJob = ((cpuAfter.node - cpuBefore.node) * 1000) / THROUGHPUT_JOBS;
  const postgresCpuMsPerJob = ((cpuAfter.postgres - cpuBefore.postgres) * 1000) / THROUGHPUT_JOBS;

  const [{ count }] = (await testbed.sql<{ count: number }>(
    `select count(*)::int as count from job where queue_id = ? and state = 'COMPLETED'`,
    [queue.id],
  )) as [{ count: number }];
  expect(count).toBe(LATENCY_SAMPLES + THROUGHPUT_JOBS);

  const p50 = percentile(latencies, 50);
  const rawP50 = percentile(rawLatencies, 50);
  const jobsPerSecond = (THROUGHPUT_JOBS / endToEndMs) * 1000;
  const rawPerSecond = (THROUGHPUT_JOBS / rawMs) * 1000;
  console.info(
    [
      `scheduler: ${SPAWNS} spawns × ${SLOTS_PER_SPAWN} slots, one leader, simulated agents in-process`,
      `submit→RUNNING, idle slots, ${LATENCY_SAMPLES} jobs one by one: p50 ${p50.toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  (target p50 ≤ 100 ms)`,
      `raw INSERT+UPDATE round trip:                 p50 ${rawP50.toFixed(2)} ms  ratio ${(p50 / rawP50).toFixed(1)}x`,
      `end to end, ${THROUGHPUT_JOBS} jobs from ${SUBMITTERS} submitters: ${jobsPerSecond.toFixed(0)} jobs/s submit→COMPLETED ` +
        `(submits alone ${((THROUGHPUT_JOBS / submitMs) * 1000).toFixed(0)}/s; ${passes} dispatch passes; target ≥ 500 jobs/s)`,
      `raw INSERT+UPDATE pairs, same concurrency:   ${rawPerSecond.toFixed(0)}/s  ratio raw/scheduler ${(rawPerSecond / jobsPerSecond).toFixed(1)}x`,
      `CPU per job: node ${nodeCpuMsPerJob.toFixed(2)} ms + postgres ${postgresCpuMsPerJob.toFixed(2)} ms ` +
        `→ at most ${(2000 / (nodeCpuMsPerJob + postgresCpuMsPerJob)).toFixed(0)} jobs/s on 2 otherwise idle cores ` +
        `(load average now ${loadavg()[0]!.toFixed(1)}: other work shares this machine)`,
    ].join('\n'),
  );
});
