import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from '../accounts/viewer.js';
import type { AgentPrincipal } from '../agents/agent-principal.js';
import { heldRunSql, type RunLease } from '../agents/run-lease.js';
import { pgArrayLiteral } from '../db/pg-array.js';
import { UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import type { RunReader } from '../logs/log.service.js';
import { readableRun, type RunFeeds } from '../logs/run-feeds.js';
import { tailRun, type TailBatch } from '../logs/run-tail.js';
import { pgArray } from '../scheduler/dispatch-rules.js';
import { RunLeaseError } from '../scheduler/run-lifecycle.service.js';
import { TERMINAL_RUN_STATES } from '../workloads/job-state.js';

export const MAX_METRIC_BATCH = 1_000;
export const MAX_METRIC_PAGE = 10_000;

export interface MetricSample {
  timestamp: Date;
  /** 100 means one full CPU. */
  cpuPercent: number;
  memoryBytes: number;
  /** 0 when the run has no memory limit. */
  memoryLimitBytes: number;
}

/** Published on `run.metrics` (keyed by run) once a batch is committed; timestamps are ISO 8601. */
export interface LiveMetricEvent {
  samples: (Omit<MetricSample, 'timestamp'> & { timestamp: string })[];
}

/** Samples per batch when a subscription replays what is stored. */
const REPLAY_PAGE = 1_000;
/** Live samples reach a subscriber at most this often. */
const LIVE_FLUSH_MS = 100;
const TERMINAL_STATES = pgArray(TERMINAL_RUN_STATES);

/** Per-run CPU and memory samples: ingest from the agent holding the run, reads by time, live streams. */
export class MetricService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: { runs: RunReader; pubSub: DaestroPubSub; feeds: RunFeeds },
  ) {}

  /**
   * Stores a batch in one statement, idempotently on (run, timestamp): a resent
   * sample, or a second one at the same instant, is ignored. A refused batch stores nothing.
   */
  async append(agent: AgentPrincipal, lease: RunLease, samples: readonly MetricSample[]): Promise<void> {
    checkBatch(samples);
    const held = heldRunSql(agent.spawnId, lease);
    const [batch] = await this.em.execute<{ held: number }[]>(
      `with lease as (${held.sql}),
       stored as (
         insert into run_metric_sample (run_id, sampled_at, cpu_percent, memory_bytes, memory_limit_bytes)
         select lease.id, sample.sampled_at, sample.cpu_percent, sample.memory_bytes, sample.memory_limit_bytes
         from lease, unnest(?::timestamptz[], ?::float8[], ?::bigint[], ?::bigint[])
           as sample(sampled_at, cpu_percent, memory_bytes, memory_limit_bytes)
         on conflict do nothing)
       select count(*)::int as held from lease`,
      [
        ...held.params,
        pgArrayLiteral(samples.map((sample) => sample.timestamp)),
        pgArrayLiteral(samples.map((sample) => sample.cpuPercent)),
        pgArrayLiteral(samples.map((sample) => Math.round(sample.memoryBytes))),
        pgArrayLiteral(samples.map((sample) => Math.round(sample.memoryLimitBytes))),
      ],
    );
    if (!batch || batch.held === 0) throw new RunLeaseError(lease.runId);
    if (samples.length === 0) return;
    // Committed: subscribers may read these from storage too, and drop repeats by time.
    this.deps.pubSub.publish('run.metrics', lease.runId, {
      samples: samples
        .map((sample) => ({ ...sample, timestamp: sample.timestamp.toISOString() }))
        .sort((a, b) => a.timestamp.localeCompare(b.timestamp)),
    });
  }

  /**
   * The run's samples as they come: stored ones after `after`, then live ones,
   * in time order, until the run is finished and every sample is delivered. A
   * sample older than one already delivered (a clock step back) is not sent.
   */
  async stream(
    viewer: Viewer,
    runId: string,
    after?: Date | null,
  ): Promise<AsyncIterable<TailBatch<MetricSample>>> {
    const run = await readableRun(this.em, this.deps.runs, viewer, runId);
    return tailRun<MetricSample>({
      after: after?.getTime() ?? 0,
      key: (sample) => sample.timestamp.getTime(),
      gapless: false,
      flushMs: LIVE_FLUSH_MS,
      read: async (from) => {
        const rows = await this.em.execute<(SampleRow & { terminal: boolean })[]>(
          `select r.state = any(?::job_run_state[]) as terminal, s.sampled_at, s.cpu_percent, s.memory_bytes, s.memory_limit_bytes
           from job_run r left join lateral (
             select * from run_metric_sample where run_id = r.id and sampled_at > ? order by sampled_at limit ?) s on true
           where r.id = ?`,
          [TERMINAL_STATES, new Date(from), REPLAY_PAGE, run.id],
        );
        const items = rows.filter((row) => row.sampled_at !== null).map(toSample);
        return { items, full: items.length === REPLAY_PAGE, terminal: rows[0]?.terminal ?? true };
      },
      join: (listener) =>
        this.deps.feeds.join(run, 'run.metrics', {
          event: (event) =>
            listener.items(
              event.samples.map((sample) => ({ ...sample, timestamp: new Date(sample.timestamp) })),
              0,
            ),
          progress: (progress) => listener.progress(progress),
        }),
    });
  }

  /** The first `first` samples in [from, to), oldest first. */
  async read(
    viewer: Viewer,
    runId: string,
    range: { from?: Date | null; to?: Date | null; first: number },
  ): Promise<MetricSample[]> {
    const run = await this.deps.runs.getRun(viewer, runId);
    if (!Number.isInteger(range.first) || range.first < 1 || range.first > MAX_METRIC_PAGE) {
      throw UserError.badUserInput(`first is 1 to ${MAX_METRIC_PAGE} samples.`, { field: 'first' });
    }
    const rows = await this.em.execute<SampleRow[]>(
      `select sampled_at, cpu_percent, memory_bytes, memory_limit_bytes from run_metric_sample
       where run_id = ? and sampled_at >= coalesce(?::timestamptz, '-infinity') and sampled_at < coalesce(?::timestamptz, 'infinity')
       order by sampled_at limit ?`,
      [run.id, range.from ?? null, range.to ?? null, range.first],
    );
    return rows.map(toSample);
  }
}

interface SampleRow {
  sampled_at: Date;
  cpu_percent: number;
  memory_bytes: string;
  memory_limit_bytes: string;
}

function toSample(row: SampleRow): MetricSample {
  return {
    timestamp: new Date(row.sampled_at),
    cpuPercent: row.cpu_percent,
    memoryBytes: Number(row.memory_bytes),
    memoryLimitBytes: Number(row.memory_limit_bytes),
  };
}

function checkBatch(samples: readonly MetricSample[]): void {
  if (samples.length > MAX_METRIC_BATCH) {
    throw UserError.badUserInput(
      `A batch holds at most ${MAX_METRIC_BATCH} samples; this one has ${samples.length}.`,
      { field: 'samples' },
    );
  }
  for (const [index, sample] of samples.entries()) {
    const field = `samples.${index}`;
    if (Number.isNaN(sample.timestamp.getTime())) {
      throw UserError.badUserInput(`Sample ${index}: the timestamp is not a valid time.`, {
        field: `${field}.timestamp`,
      });
    }
    for (const key of ['cpuPercent', 'memoryBytes', 'memoryLimitBytes'] as const) {
      if (!Number.isFinite(sample[key]) || sample[key] < 0) {
        throw UserError.badUserInput(`Sample ${index}: ${key} must be a number, 0 or more.`, {
          field: `${field}.${key}`,
        });
      }
    }
  }
}
