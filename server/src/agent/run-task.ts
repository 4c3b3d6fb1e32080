import path from 'node:path';
import type { Logger } from '../logger.js';
import { maskSecrets } from '../secrets/log-masker.js';
import { AgentRequestError, LinkClosedError, type AgentLink } from './agent-link.js';
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.js';
import type { Executor, RunSink, RunSpec } from './executors/executor.js';
import { BatchRefusedError, LogShipper } from './log-shipper.js';
import { MetricsShipper } from './metrics-shipper.js';
import {
  APPEND_RUN_LOGS,
  APPEND_RUN_METRICS,
  FINISH_RUN,
  MARK_RUN_STARTED,
  type ClaimedRun,
  type JobDefinitionType,
  type LogLine,
  type MetricSample,
} from './protocol.js';
import { RunOutput } from './run-output.js';
import { finishInput, type RunEnding } from './run-outcome.js';

export interface RunTaskDeps {
  link: Pick<AgentLink, 'request'>;
  /** The executor for a definition type, or why this agent cannot run it. */
  executorFor(type: JobDefinitionType): Executor | { unavailable: string };
  log: Logger;
  /** Where a run's log lines spill while the link is down long. */
  spillDir: string;
  /** Log lines held in memory per run before they spill. */
  logBufferBytes: number;
  /** SIGTERM → SIGKILL on cancel and timeout; the executor's default when unset. */
  gracePeriodSeconds?: number;
  /** DOCKER runs: the containers' network mode; the engine's default when unset. */
  dockerNetwork?: string;
  /** This agent's spawn, when known: marks what its runs leave on the host. */
  spawnId?: string;
  /** Between retries of a failed report. */
  retry: BackoffPolicy;
  partialLineWaitMs?: number;
}

type StopRequest = { kind: 'CANCEL' } | { kind: 'HAND_BACK'; note: string } | { kind: 'DROP' };

/**
 * One claimed run, from claim to acknowledged finish: runs it with its executor,
 * reports it started, ships its masked log and its metrics, and finishes it with
 * the outcome once every log line is stored. Every report is retried until the
 * server answers; a STALE_LEASE answer means the run is no longer ours: it is
 * stopped and its buffered output dropped.
 */
export class RunTask {
  /** Settles once the run is finished and reported (or dropped); never rejects. */
  readonly done: Promise<void>;
  private readonly abort = new AbortController();
  /** Aborted when the run is dropped: ends the waits between retries at once. */
  private readonly dropping = new AbortController();
  private readonly log: Logger;
  private readonly logs: LogShipper;
  private readonly metrics: MetricsShipper;
  private stop: StopRequest | undefined;
  private started: Promise<void> | undefined;

  constructor(
    private readonly claim: ClaimedRun,
    private readonly deps: RunTaskDeps,
  ) {
    this.log = deps.log.child({ runId: claim.runId, jobId: claim.jobId, attempt: claim.attempt });
    this.logs = new LogShipper({
      send: (lines) => this.sendLogs(lines),
      log: this.log,
      memoryLimitBytes: deps.logBufferBytes,
      spillFile: path.join(deps.spillDir, `${claim.runId.replace(/[^A-Za-z0-9-]/g, '_')}.jsonl`),
    });
    this.metrics = new MetricsShipper((samples) => this.sendMetrics(samples), this.log);
    this.done = this.execute().catch((error: unknown) => {
      this.log.error({ err: error }, 'run task failed');
    });
  }

  /** The job is being cancelled: stop the run (SIGTERM, SIGKILL after the grace period) and finish it CANCELLED. */
  cancel(): void {
    this.requestStop({ kind: 'CANCEL' });
  }

  /** Stop the run and finish it as ERROR (INFRA_FAILURE) with `note`, so the retry policy runs it elsewhere. */
  handBack(note: string): void {
    this.requestStop({ kind: 'HAND_BACK', note });
  }

  /** The run is no longer ours (stale lease, the agent registered anew): stop it and report nothing more. */
  drop(why: string): void {
    if (this.dropped) return;
    this.log.warn({ why }, 'dropping the run');
    this.stop = { kind: 'DROP' };
    this.dropping.abort();
    this.abort.abort();
    this.metrics.discard();
    void this.logs.discard();
  }

  private get dropped(): boolean {
    return this.dropping.signal.aborted;
  }

  private requestStop(request: StopRequest): void {
    if (this.stop) return;
    this.stop = request;
    this.log.info({ stop: request.kind }, 'stopping the run');
    this.abort.abort();
  }

  private async execute(): Promise<void> {
    const output = new RunOutput(secretsOf(this.claim), (stream, text) => this.logs.add(stream, text), {
      partialLineWaitMs: this.deps.partialLineWaitMs,
    });
    const sink: RunSink = {
      started: () => (this.started ??= this.markStarted()),
      output: (stream, text) => output.write(stream, text),
      // The server's convention: a limit of 0 means none (executors report the host's memory then).
      stats: (sample) =>
        this.metrics.add({
          ...sample,
          memoryLimitBytes: this.claim.memoryMiB > 0 ? sample.memoryLimitBytes : 0,
        }),
    };
    this.log.info({ type: this.claim.type, job: this.claim.jobName }, 'run claimed');
    let ending: RunEnding;
    const executor = this.deps.executorFor(this.claim.type);
    if ('unavailable' in executor) {
      ending = { kind: 'HOST_FAILURE', message: executor.unavailable };
    } else {
      try {
        const result = await executor.run(runSpecOf(this.claim, this.deps), this.abort.signal, sink);
        ending =
          this.stop?.kind === 'HAND_BACK' && result.outcome === 'CANCELLED'
            ? { kind: 'HANDED_BACK', note: this.stop.note }
            : { kind: 'RESULT', result };
      } catch (error) {
        ending = {
          kind: 'HOST_FAILURE',
          message: `The run failed on the agent's host: ${(error as Error).message}`,
        };
      }
    }
    output.end();
    try {
      await this.started;
      await this.logs.drain();
      await this.metrics.drain();
      if (this.dropped) return;
      const input = finishInput(ending);
      // Engine and shell messages may quote the run's own values.
      const systemNote = input.systemNote && maskSecrets(input.systemNote, secretsOf(this.claim));
      const finished = await this.call<{ finishRun: { jobState: string | null } }>('finishRun', FINISH_RUN, {
        input: { ...this.lease, ...input, systemNote },
      });
      if (finished) {
        this.log.info(
          {
            outcome: input.outcome,
            exitCode: input.exitCode,
            jobState: finished.finishRun.jobState,
            lines: this.logs.lineCount,
          },
          'run finished',
        );
      }
    } finally {
      await this.logs.discard();
    }
  }

  private get lease() {
    return { runId: this.claim.runId, leaseToken: this.claim.leaseToken };
  }

  private async markStarted(): Promise<void> {
    this.log.info('run started');
    try {
      // Sent again after a reconnect, it gets the same answer while the run is ours; STALE_LEASE stops the run.
      await this.call('markRunStarted', MARK_RUN_STARTED, { input: this.lease });
    } catch (error) {
      // Refused as malformed: the run goes on; its finish still reports how it ended.
      this.log.error({ err: error }, 'markRunStarted refused');
    }
  }

  private async sendLogs(lines: LogLine[]): Promise<number | undefined> {
    try {
      const answer = await this.call<{ appendRunLogs: { storedThrough: number } }>(
        'appendRunLogs',
        APPEND_RUN_LOGS,
        {
          input: { ...this.lease, lines },
        },
      );
      return answer?.appendRunLogs.storedThrough;
    } catch (error) {
      throw error instanceof AgentRequestError ? new BatchRefusedError(error.message) : error;
    }
  }

  private async sendMetrics(samples: MetricSample[]): Promise<boolean> {
    const answer = await this.call('appendRunMetrics', APPEND_RUN_METRICS, {
      input: { ...this.lease, samples },
    });
    return answer !== undefined;
  }

  /**
   * Sends one report until the server answers. Undefined when the run was dropped
   * (here, on a STALE_LEASE answer, or meanwhile); a refusal (BAD_USER_INPUT) is thrown.
   */
  private async call<T>(
    what: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<T | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.dropped) return undefined;
      try {
        return await this.deps.link.request<T>(query, variables);
      } catch (error) {
        if (error instanceof AgentRequestError && error.isStaleLease) {
          this.drop(`${what}: the server says this run is no longer held by this agent`);
          return undefined;
        }
        if (error instanceof LinkClosedError) {
          this.drop(`${what}: ${error.message}`);
          return undefined;
        }
        if (error instanceof AgentRequestError && error.code === 'BAD_USER_INPUT') throw error;
        this.log.warn({ err: error, attempt }, `${what} failed; retrying`);
        await sleep(backoffDelay(attempt, this.deps.retry), this.dropping.signal);
      }
    }
  }
}

/** Every value the run's log must not show: sensitive variables and the registry token. */
function secretsOf(claim: ClaimedRun): string[] {
  const secrets = claim.env.filter((variable) => variable.sensitive).map((variable) => variable.value);
  if (claim.registryCredential) secrets.push(claim.registryCredential.token);
  return secrets;
}

function runSpecOf(
  claim: ClaimedRun,
  deps: Pick<RunTaskDeps, 'gracePeriodSeconds' | 'dockerNetwork' | 'spawnId'>,
): RunSpec {
  const common = {
    runId: claim.runId,
    ...(deps.spawnId && { spawnId: deps.spawnId }),
    command: claim.command,
    env: Object.fromEntries(claim.env.map((variable) => [variable.name, variable.value])),
    cpu: claim.cpu,
    memoryMiB: claim.memoryMiB,
    privileged: claim.privileged,
    timeoutSeconds: claim.timeoutSeconds,
    ...(deps.gracePeriodSeconds !== undefined && { gracePeriodSeconds: deps.gracePeriodSeconds }),
  };
  if (claim.type === 'BASH') return { ...common, kind: 'BASH', script: claim.script ?? '' };
  const credential = claim.registryCredential;
  return {
    ...common,
    kind: 'DOCKER',
    image: claim.image ?? '',
    ...(credential && {
      registryAuth: {
        serverAddress: credential.serverAddress,
        username: credential.username,
        password: credential.token,
      },
    }),
    ...(deps.dockerNetwork && { networkMode: deps.dockerNetwork }),
  };
}
