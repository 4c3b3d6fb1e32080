import { TransactionPropagation } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isValidId } from '../db/ids.js';
import { pgArrayLiteral } from '../db/pg-array.js';
import { executePrepared } from '../db/prepared.js';
import { ErrorCode, UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import type { SecretService } from '../secrets/secret.service.js';
import { SecretError } from '../secrets/secret-error.js';
import { ComputeEnvironmentKind } from '../workloads/compute-environment.entity.js';
import type { JobDefinitionType, StoredEnvVar } from '../workloads/job-definition.entity.js';
import type { JobOverrides } from '../workloads/job.entity.js';
import { FailureClass, JobRunState, JobState } from '../workloads/job-state.js';
import { envSlot, type EnvOwner } from '../workloads/env-vars.js';
import {
  JobTransitions,
  SqlValue,
  type MovedJobRow,
  type NotMovedRow,
} from '../workloads/job-transitions.js';
import { substituteParameters } from '../workloads/parameters.js';
import { pgArray, SLOT_HOLDING_RUN_STATES } from './dispatch-rules.js';
import { NOTIFY_SCHEDULER_SQL, notifyScheduler, notifySchedulerParams } from './notify.js';
import {
  defaultFailureClass,
  FINISHED_RUN_COLUMNS,
  RUN_OUTCOMES,
  SETTLING_JOB_COLUMNS,
  settleFinishedRuns,
  settleJob,
  type FinishedRunRow,
  type RunOutcome,
  type SettlingJob,
} from './run-settlement.js';

/**
 * A write for a run that no longer belongs to the caller: the lease token is
 * stale (the run was finished, timed out or re-queued) or was never issued to it.
 */
export class RunLeaseError extends UserError {
  constructor(runId: string) {
    super(
      ErrorCode.CONFLICT,
      `Run ${runId} is not held with this lease: it already finished or was taken away from this agent. ` +
        'Stop working on it.',
      { runId, reason: 'STALE_LEASE' },
    );
    this.name = 'RunLeaseError';
  }
}

/** A heartbeat from a spawn that was retired, or never existed: the agent must register again. */
export class SpawnRetiredError extends UserError {
  constructor(spawnId: string) {
    super(ErrorCode.CONFLICT, `Compute spawn ${spawnId} is retired or unknown; register the agent again.`, {
      spawnId,
      reason: 'SPAWN_RETIRED',
    });
    this.name = 'SpawnRetiredError';
  }
}

/** An environment variable as a run sees it; `sensitive` values must be masked in its logs. */
export interface RunEnvVar {
  name: string;
  value: string;
  sensitive: boolean;
}

/** Everything an agent needs to execute a run it claimed. Plain data. */
export interface ClaimedRun {
  runId: string;
  /** Carried by every later write for this run (markRunning, finishRun). */
  leaseToken: string;
  attempt: number;
  jobId: string;
  jobName: string;
  queueName: string;
  computeEnvironmentName: string;
  definitionId: string;
  definitionName: string;
  definitionVersion: number;
  type: JobDefinitionType;
  /** DOCKER */
  image: string | null;
  /** DOCKER: the registry auth to pull `image` with; null for anonymous pulls. */
  registryAuthId: string | null;
  /** BASH */
  script: string | null;
  /** With every `Param::<key>` substituted. */
  command: string[];
  /** The definition's env, then the job's overrides, then the DAESTRO_* variables; values opened. */
  env: RunEnvVar[];
  cpu: number;
  memoryMiB: number;
  /** 0 means none. */
  timeoutSeconds: number;
  privileged: boolean;
}

export interface RunResult {
  outcome: RunOutcome;
  exitCode?: number | null;
  /** Defaults from the outcome: FAILED → APP_FAILURE, TIMEOUT → TIMEOUT, ERROR → INFRA_FAILURE. */
  failureClass?: FailureClass | null;
  /** Shown to the user, e.g. "image pull failed: manifest unknown". */
  systemNote?: string | null;
}

export interface HeartbeatReport {
  /** Runs the agent is executing right now. */
  slotsUsed: number;
  cpuCount?: number;
  memoryMiB?: number;
  /**
   * Every run the agent holds (claimed, finish not yet acknowledged). When given,
   * the spawn's runs claimed over claimGraceSeconds ago and not listed end in
   * ERROR: their claim's answer never reached the agent. Older agents omit it.
   */
  heldRunIds?: readonly string[];
}

export interface HeartbeatAck {
  /** The spawn is LOST if no heartbeat comes before this. */
  leaseExpiresAt: Date;
  /** Runs on this spawn whose job is being cancelled: stop them, then finish them as CANCELLED. */
  cancelRunIds: string[];
}

export interface RunLifecycleOptions {
  pubSub: DaestroPubSub;
  secrets: Pick<SecretService, 'openMany'>;
  /** A spawn silent this long is LOST. */
  agentLeaseSeconds: number;
  /** A run claimed this long ago that its agent's heartbeat does not list as held ends in ERROR. */
  claimGraceSeconds: number;
  /** For retry jitter; tests pass a fixed one. */
  random?: () => number;
}

const MAX_CLAIM = 100;

/**
 * What agents call about their runs (the agent-facing GraphQL wraps these):
 * claim placed runs, report them running or finished, and heartbeat. Every run
 * write carries the lease token issued at claim and is one guarded UPDATE.
 */
export class RunLifecycleService {
  constructor(
    private readonly em: EntityManager,
    private readonly options: RunLifecycleOptions,
  ) {}

  /**
   * Hands out up to `max` runs placed on the spawn and not yet claimed, each with
   * a fresh lease token. Concurrent claims get disjoint runs (SKIP LOCKED).
   * Runs in the caller's transaction when there is one.
   */
  async claimRuns(spawnId: string, max: number): Promise<ClaimedRun[]> {
    if (!isValidId(spawnId)) return [];
    const limit = Math.max(0, Math.min(MAX_CLAIM, Math.floor(max)));
    if (limit === 0) return [];
    // One transaction: a claim whose runs could not be described is undone, not left holding them.
    let transitions: JobTransitions | undefined;
    const handedOut = await this.em.transactional(
      async (em) => {
        // One statement claims the runs and reads everything the agent needs to run them.
        const runs = await executePrepared<ClaimRow>(
          em,
          `with claimed as (
             update job_run r set lease_token = gen_random_uuid(), claimed_at = now()
             from (select r2.id from job_run r2 join job j on j.id = r2.job_id
                   where r2.spawn_id = ? and r2.state = 'STARTING' and r2.lease_token is null and j.state = 'STARTING'
                   order by r2.created_at, r2.id limit ? for update of r2 skip locked) picked
             where r.id = picked.id
             returning r.id, r.lease_token, r.attempt, r.job_id, r.spawn_id, r.created_at)
           select c.id as run_id, c.lease_token, c.attempt, j.id as job_id, j.name as job_name, j.overrides,
             q.name as queue_name, d.id as definition_id, d.name as definition_name,
             d.version as definition_version, d.type, d.image, d.registry_auth_id, d.script, d.command,
             d.parameters, d.env, d.cpu, d.memory_mib, d.timeout_seconds, d.privileged,
             s.id as spawn_id, s.instance_type as spawn_instance_type, s.public_ipv4, s.public_ipv6,
             e.name as environment_name, e.kind as environment_kind,
             e.instance_type as environment_instance_type, a.provider as cloud_provider
           from claimed c join job j on j.id = c.job_id join job_queue q on q.id = j.queue_id
             join job_definition d on d.id = j.definition_id join compute_spawn s on s.id = c.spawn_id
             join compute_environment e on e.id = s.compute_environment_id
             left join cloud_auth a on a.id = e.cloud_auth_id
           order by c.created_at, c.id`,
          [spawnId, limit],
        );
        if (runs.length === 0) return [];
        const { opened, failed } = await this.openEnvironments(runs);
        if (failed.size > 0) {
          transitions = new JobTransitions(em, this.options.pubSub);
          await this.failUnstartable(em, transitions, failed);
        }
        return runs.filter((run) => opened.has(run)).map((run) => describeRun(run, opened.get(run)!));
      },
      { propagation: TransactionPropagation.REQUIRED },
    );
    transitions?.publishCommitted();
    return handedOut;
  }

  /**
   * The agent started the run's process: STARTING → RUNNING, and the timeout
   * clock starts; its job moves STARTING → RUNNING in the same statement (this
   * is on every run's path).
   */
  async markRunning(
    runId: string,
    leaseToken: string,
  ): Promise<{ deadlineAt: Date | null; cancelRequested: boolean }> {
    if (!isValidId(runId) || !isValidId(leaseToken)) throw new RunLeaseError(runId);
    const transitions = new JobTransitions(this.em, this.options.pubSub);
    // The job's start is its first started attempt's: the same now() as the run's.
    const patch = { startedAt: new SqlValue('coalesce(job.started_at, now())') };
    const move = transitions.moveSql(
      'moved',
      { sql: 'id in (select job_id from started)', params: [] },
      JobState.STARTING,
      JobState.RUNNING,
      patch,
    );
    const [run] = await executePrepared<(MovedJobRow | NotMovedRow) & { deadline_at: Date | null }>(
      this.em,
      `with started as (
         update job_run r set state = 'RUNNING', started_at = now(),
           deadline_at = case when d.timeout_seconds > 0 then now() + make_interval(secs => d.timeout_seconds) end
         from job j join job_definition d on d.id = j.definition_id
         where r.id = ? and r.lease_token = ? and r.state = 'STARTING' and j.id = r.job_id
         returning r.job_id, r.deadline_at),
       ${move.sql}
       select started.deadline_at, moved.* from started left join moved on moved.job_id = started.job_id`,
      [runId, leaseToken, ...move.params],
    );
    if (!run) return this.alreadyRunning(runId, leaseToken);
    const moved = transitions.moved([run], JobState.RUNNING, patch);
    transitions.publishCommitted();
    return {
      deadlineAt: run.deadline_at ? new Date(run.deadline_at) : null,
      // Not moved: the job was cancelled (or its spawn lost) meanwhile.
      cancelRequested: moved.length === 0,
    };
  }

  /**
   * markRunning sent again (its answer was lost to a reconnect) is not an error
   * while the caller still holds the run: it gets the same answer.
   */
  private async alreadyRunning(
    runId: string,
    leaseToken: string,
  ): Promise<{ deadlineAt: Date | null; cancelRequested: boolean }> {
    const [run] = await this.em.execute<{ deadline_at: Date | null; job_state: JobState }[]>(
      `select r.deadline_at, j.state as job_state from job_run r join job j on j.id = r.job_id
       where r.id = ? and r.lease_token = ? and r.state in ('RUNNING', 'CANCELLING')`,
      [runId, leaseToken],
    );
    if (!run) throw new RunLeaseError(runId);
    return {
      deadlineAt: run.deadline_at ? new Date(run.deadline_at) : null,
      cancelRequested: run.job_state !== JobState.RUNNING,
    };
  }

  /**
   * The run ended. Its job moves on by the retry policy (see settleJob); a
   * finished run frees a slot, so the scheduler is woken. Returns the job's new state.
   */
  async finishRun(runId: string, leaseToken: string, result: RunResult): Promise<JobState | null> {
    if (!RUN_OUTCOMES.includes(result.outcome)) {
      throw UserError.badUserInput(`A run finishes as one of ${RUN_OUTCOMES.join(', ')}.`, {
        field: 'outcome',
      });
    }
    if (!isValidId(runId) || !isValidId(leaseToken)) throw new RunLeaseError(runId);
    const failureClass = result.failureClass ?? defaultFailureClass(result.outcome);
    if (result.outcome === JobRunState.COMPLETED) {
      const completed = await this.completeRunningJob(runId, leaseToken, result, failureClass);
      if (completed) return completed;
    }
    let transitions: JobTransitions | undefined;
    const state = await this.em.transactional(async (tem) => {
      transitions = new JobTransitions(tem, this.options.pubSub);
      // One statement: finish the run, lock and read its job, and wake the
      // scheduler (a slot is free; delivered at commit).
      const [job] = await tem.execute<(SettlingJob & { job_id: string })[]>(
        `with finished as (
           update job_run set state = ?, finished_at = now(), exit_code = ?, failure_class = ?, system_note = ?
           where id = ? and lease_token = ? and state = any(?::job_run_state[])
           returning job_id)
         select j.id as job_id, ${SETTLING_JOB_COLUMNS}, ${NOTIFY_SCHEDULER_SQL}
         from finished join job j on j.id = finished.job_id join job_definition d on d.id = j.definition_id
         for update of j`,
        [
          result.outcome,
          result.exitCode ?? null,
          failureClass,
          result.systemNote ?? null,
          runId,
          leaseToken,
          pgArray(SLOT_HOLDING_RUN_STATES),
          ...notifySchedulerParams('run.finished'),
        ],
      );
      if (!job) throw new RunLeaseError(runId);
      const run = {
        runId,
        jobId: job.job_id,
        outcome: result.outcome,
        failureClass,
        exitCode: result.exitCode ?? null,
        systemNote: result.systemNote ?? null,
      };
      const event = await settleJob(transitions, run, job, this.options.random);
      return event?.to ?? null;
    });
    transitions?.publishCommitted();
    return state;
  }

  /**
   * finishRun's common case in one statement and no transaction: a run that
   * COMPLETED while its job is RUNNING (settleJob would complete the job). Locks
   * the run, then the job (the order every run-finishing path takes), and writes
   * both only while the job is still RUNNING. Null when that is not the case (a
   * cancel came first, the agent never reported the run started, a stale lease):
   * the general path settles it.
   */
  private async completeRunningJob(
    runId: string,
    leaseToken: string,
    result: RunResult,
    failureClass: FailureClass | null,
  ): Promise<JobState | null> {
    const transitions = new JobTransitions(this.em, this.options.pubSub);
    const patch = { finishedAt: new SqlValue('now()') };
    const move = transitions.moveSql(
      'moved',
      { sql: 'id in (select job_id from held)', params: [] },
      JobState.RUNNING,
      JobState.COMPLETED,
      patch,
    );
    const rows = await executePrepared<MovedJobRow>(
      this.em,
      `with held as (
         select id, job_id from job_run where id = ? and lease_token = ? and state = any(?::job_run_state[])
         for no key update),
       ${move.sql},
       finished as (
         update job_run r set state = 'COMPLETED', finished_at = now(), exit_code = ?, failure_class = ?,
           system_note = ?
         from moved where r.id = ? and r.job_id = moved.job_id)
       select moved.*, ${NOTIFY_SCHEDULER_SQL} from moved`,
      [
        runId,
        leaseToken,
        pgArray(SLOT_HOLDING_RUN_STATES),
        ...move.params,
        result.exitCode ?? null,
        failureClass,
        result.systemNote ?? null,
        runId,
        ...notifySchedulerParams('run.finished'),
      ],
    );
    const moved = transitions.moved(rows, JobState.COMPLETED, patch);
    transitions.publishCommitted();
    return moved.length > 0 ? JobState.COMPLETED : null;
  }

  /**
   * Renews the spawn's lease and records its load. A spawn coming (back) ONLINE
   * wakes the scheduler, which may place runs on it. Also tells the agent which
   * of its runs to stop because their job is being cancelled.
   */
  async heartbeat(spawnId: string, report: HeartbeatReport): Promise<HeartbeatAck> {
    if (!isValidId(spawnId)) throw new SpawnRetiredError(spawnId);
    let transitions: JobTransitions | undefined;
    const ack = await this.em.transactional(async (tem) => {
      const [spawn] = await tem.execute<{ previous_state: string; lease_expires_at: Date }[]>(
        `with previous as (select id, state from compute_spawn where id = ? and state <> 'TERMINATED' for update)
         update compute_spawn s set state = 'ONLINE', last_heartbeat_at = now(),
           lease_expires_at = now() + make_interval(secs => ?),
           slots_used = ?, cpu_count = coalesce(?, s.cpu_count), memory_mib = coalesce(?, s.memory_mib),
           idle_since = case when ? = 0 then coalesce(s.idle_since, now()) end
         from previous where s.id = previous.id
         returning previous.state as previous_state, s.lease_expires_at`,
        [
          spawnId,
          this.options.agentLeaseSeconds,
          report.slotsUsed,
          report.cpuCount ?? null,
          report.memoryMiB ?? null,
          report.slotsUsed,
        ],
      );
      if (!spawn) throw new SpawnRetiredError(spawnId);
      if (spawn.previous_state !== 'ONLINE') await notifyScheduler(tem, 'spawn.online');
      if (report.heldRunIds) {
        transitions = new JobTransitions(tem, this.options.pubSub);
        await this.failRunsNotHeld(tem, transitions, spawnId, report.heldRunIds);
      }
      const cancelling = await tem.execute<{ id: string }[]>(
        `select r.id from job_run r join job j on j.id = r.job_id
         where r.spawn_id = ? and r.state = any(?::job_run_state[]) and r.lease_token is not null and j.state = ?
         order by r.id`,
        [spawnId, pgArray(SLOT_HOLDING_RUN_STATES), JobState.CANCELLING],
      );
      return {
        leaseExpiresAt: new Date(spawn.lease_expires_at),
        cancelRunIds: cancelling.map((row) => row.id),
      };
    });
    transitions?.publishCommitted();
    return ack;
  }

  /**
   * The claim gap: a claimRuns answer lost on its way leaves runs claimed by an
   * agent that never heard of them, and its heartbeats keep the spawn alive.
   * Runs of the spawn claimed over claimGraceSeconds ago that the agent does
   * not list as held end in ERROR(INFRA_FAILURE); their jobs follow their retry policy.
   */
  private async failRunsNotHeld(
    em: EntityManager,
    transitions: JobTransitions,
    spawnId: string,
    heldRunIds: readonly string[],
  ): Promise<void> {
    const grace = this.options.claimGraceSeconds;
    const finished = await em.execute<FinishedRunRow[]>(
      `update job_run r set state = 'ERROR', failure_class = 'INFRA_FAILURE', finished_at = now(),
         system_note = format('the agent did not hold this run: claimed at %s, it is missing from the agent''s ' ||
           'heartbeats %s s later (the claim''s answer never reached the agent)',
           to_char(r.claimed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ?::int)
       where r.spawn_id = ? and r.state = any(?::job_run_state[]) and r.lease_token is not null
         and r.claimed_at < now() - make_interval(secs => ?) and not (r.id = any(?::uuid[]))
       returning ${FINISHED_RUN_COLUMNS}`,
      [
        grace,
        spawnId,
        pgArray(SLOT_HOLDING_RUN_STATES),
        grace,
        // A malformed id names no run: it holds nothing.
        pgArray(heldRunIds.filter(isValidId)),
      ],
    );
    if (finished.length === 0) return;
    await settleFinishedRuns(em, transitions, finished, this.options.random);
    await notifyScheduler(em, 'run.finished');
  }

  /**
   * Opens the runs' env values: every value of every run with one query for
   * their data keys; when that fails, run by run, naming the runs whose values
   * cannot be opened (say, shredded when their owner was deleted): those end in
   * ERROR with the reason, rather than being claimed and failing again forever.
   */
  private async openEnvironments(
    runs: ClaimRow[],
  ): Promise<{ opened: Map<ClaimRow, RunEnvVar[]>; failed: Map<ClaimRow, string> }> {
    const sealedIn = (owner: EnvOwner, ownerId: string) => (variable: StoredEnvVar) => ({
      name: variable.name,
      sensitive: variable.sensitive,
      item: { slot: envSlot(owner, ownerId, variable.name), sealed: variable.value },
    });
    const sealedOf = (run: ClaimRow) => [
      ...run.env.map(sealedIn('job_definition', run.definition_id)),
      ...(run.overrides.env ?? []).map(sealedIn('job', run.job_id)),
    ];
    const describe = (env: ReturnType<typeof sealedOf>, values: string[]): RunEnvVar[] =>
      env.map(({ name, sensitive }, index) => ({ name, sensitive, value: values[index]! }));

    const opened = new Map<ClaimRow, RunEnvVar[]>();
    const failed = new Map<ClaimRow, string>();
    const all = runs.map((run) => ({ run, env: sealedOf(run) }));
    try {
      const values = await this.options.secrets.openMany(
        all.flatMap(({ env }) => env.map(({ item }) => item)),
      );
      let offset = 0;
      for (const { run, env } of all) {
        opened.set(run, describe(env, values.slice(offset, offset + env.length)));
        offset += env.length;
      }
      return { opened, failed };
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
    }
    for (const { run, env } of all) {
      try {
        opened.set(run, describe(env, await this.options.secrets.openMany(env.map(({ item }) => item))));
      } catch (error) {
        if (!(error instanceof SecretError)) throw error;
        failed.set(run, `its environment variables could not be decrypted (${error.message})`);
      }
    }
    return { opened, failed };
  }

  /** Ends claimed runs that cannot start as ERROR(INFRA_FAILURE); their jobs follow their retry policy. */
  private async failUnstartable(
    em: EntityManager,
    transitions: JobTransitions,
    failed: Map<ClaimRow, string>,
  ): Promise<void> {
    const runs = [...failed];
    const finished = await em.execute<FinishedRunRow[]>(
      `update job_run r set state = 'ERROR', failure_class = 'INFRA_FAILURE', finished_at = now(),
         system_note = failed.reason
       from unnest(?::uuid[], ?::text[]) as failed(id, reason)
       where r.id = failed.id
       returning ${FINISHED_RUN_COLUMNS}`,
      [pgArray(runs.map(([run]) => run.run_id)), pgArrayLiteral(runs.map(([, reason]) => reason))],
    );
    await settleFinishedRuns(em, transitions, finished, this.options.random);
    await notifyScheduler(em, 'run.finished');
  }
}

/** A run claimRuns just claimed, with its job, queue, definition, spawn and environment: plain rows. */
interface ClaimRow {
  run_id: string;
  lease_token: string;
  attempt: number;
  job_id: string;
  job_name: string;
  overrides: JobOverrides;
  queue_name: string;
  definition_id: string;
  definition_name: string;
  definition_version: number;
  type: JobDefinitionType;
  image: string | null;
  registry_auth_id: string | null;
  script: string | null;
  command: string[];
  parameters: Record<string, string>;
  env: StoredEnvVar[];
  cpu: number;
  memory_mib: number;
  timeout_seconds: number;
  privileged: boolean;
  spawn_id: string;
  spawn_instance_type: string | null;
  public_ipv4: string | null;
  public_ipv6: string | null;
  environment_name: string;
  environment_kind: ComputeEnvironmentKind;
  environment_instance_type: string | null;
  cloud_provider: string | null;
}

/** What the agent gets for a claimed run: the definition's variables, then the job's overrides by name, then the injected ones. */
function describeRun(run: ClaimRow, env: RunEnvVar[]): ClaimedRun {
  const merged = new Map<string, RunEnvVar>(env.map((variable) => [variable.name, variable]));
  const injected: Record<string, string | null | undefined> = {
    DAESTRO_JOB_ID: run.job_id,
    DAESTRO_JOB_RUN_ID: run.run_id,
    DAESTRO_JOB_QUEUE_NAME: run.queue_name,
    DAESTRO_COMPUTE_SPAWN_ID: run.spawn_id,
    DAESTRO_COMPUTE_ENV_NAME: run.environment_name,
    DAESTRO_CLOUD_PROVIDER:
      run.environment_kind === ComputeEnvironmentKind.CLOUD ? run.cloud_provider : undefined,
    DAESTRO_INSTANCE_TYPE: run.spawn_instance_type ?? run.environment_instance_type,
    DAESTRO_PUBLIC_IPV4: run.public_ipv4,
    DAESTRO_PUBLIC_IPV6: run.public_ipv6,
  };
  for (const [name, value] of Object.entries(injected)) {
    // Reserved names: the workloads API refuses user variables starting with DAESTRO_.
    if (value) merged.set(name, { name, value, sensitive: false });
  }
  return {
    runId: run.run_id,
    leaseToken: run.lease_token,
    attempt: run.attempt,
    jobId: run.job_id,
    jobName: run.job_name,
    queueName: run.queue_name,
    computeEnvironmentName: run.environment_name,
    definitionId: run.definition_id,
    definitionName: run.definition_name,
    definitionVersion: run.definition_version,
    type: run.type,
    image: run.image,
    registryAuthId: run.registry_auth_id,
    script: run.script,
    command: substituteParameters(run.overrides.command ?? run.command, {
      ...run.parameters,
      ...run.overrides.parameters,
    }),
    env: [...merged.values()],
    cpu: run.cpu,
    memoryMiB: run.memory_mib,
    timeoutSeconds: run.timeout_seconds,
    privileged: run.privileged,
  };
}
