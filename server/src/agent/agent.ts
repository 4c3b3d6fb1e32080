import os from 'node:os';
import type Docker from 'dockerode';
import type { Logger } from '../logger.js';
import { DAESTRO_VERSION } from '../version.js';
import { AgentLink, AgentRequestError, LinkClosedError } from './agent-link.js';
import { AgentStateDir, sha256, type SavedAgent } from './agent-state.js';
import type { BackoffPolicy } from './backoff.js';
import { DockerExecutor, type PullPolicy } from './executors/docker.js';
import type { Executor } from './executors/executor.js';
import { ProcessExecutor } from './executors/process.js';
import { HostLoad } from './host-load.js';
import {
  AGENT_GOING_OFFLINE,
  AGENT_HEARTBEAT,
  AGENT_TOKEN_PREFIX,
  AGENT_WAKEUPS,
  CLAIM_RUNS,
  REGISTRATION_TOKEN_PREFIX,
  type ClaimedRun,
  type HeartbeatAck,
  type JobDefinitionType,
} from './protocol.js';
import { register, RegistrationRefusedError } from './registration.js';
import { RunTask } from './run-task.js';

export interface AgentOptions {
  /** The server's base URL (http(s)://host:port, maybe with a path prefix); its API is at `/graphql` below it. */
  serverUrl: string;
  /** A registration token (`dreg_…`) or an agent token (`dagt_…`); unset: the one saved in the state dir. */
  token: string | undefined;
  stateDir: string;
  hostname: string;
  /** The engine DOCKER runs use; unset: this agent refuses DOCKER runs. */
  docker: Docker | undefined;
  /** How often to claim without a wake-up ring (a lost ring delays work, never loses it). */
  pollIntervalMs: number;
  /** On SIGTERM, how long running runs may take to finish before they are handed back. */
  drainTimeoutMs: number;
  /** SIGTERM → SIGKILL on cancel and timeout; the executors' default (10 s) when unset. */
  gracePeriodSeconds?: number;
  reconnect: BackoffPolicy;
  keepAliveMs: number;
  /** How often runs report CPU and memory. */
  statsIntervalMs: number;
  /** Log lines held in memory per run before they spill to the state dir. */
  logBufferBytes: number;
  pullPolicy: PullPolicy;
  /** DOCKER runs' network mode; the engine's default when unset. */
  dockerNetwork?: string;
  /** Between heartbeats; default a third of the lease, at most 5 s. */
  heartbeatIntervalMs?: number;
  /** A process run's cgroup limits (default: where the host allows). */
  cgroups?: boolean;
  /**
   * Reuse the saved agent token whatever server URL or registration token it came
   * from, registering only when the server refuses it. The embedded agent gets a
   * fresh registration token at every start; registering each time would pile up spawns.
   */
  preferSavedToken?: boolean;
}

/** A problem the person starting the agent must fix; the message says how. */
export class AgentStartError extends Error {
  override name = 'AgentStartError';
}

export interface AgentExit {
  code: number;
  /** Why it stopped, when that is a problem. */
  message?: string;
}

interface Credential {
  agentToken: string;
  spawnId?: string;
  slots?: number;
  leaseSeconds?: number;
  computeEnvironmentName?: string;
  /** Issued by this process just now: refused before it ever connected, registering again would not help. */
  fresh: boolean;
  /** The server accepted it at least once. */
  connected?: boolean;
}

/** With no known slot count the server's placement is the only bound (it never places more than the spawn's slots). */
const UNKNOWN_SLOTS_CLAIM = 100;
const MAX_HEARTBEAT_MS = 5_000;
const GOING_OFFLINE_TIMEOUT_MS = 5_000;
/** After a drain hands runs back: the executors' SIGKILL grace plus time to report the finish. */
const HAND_BACK_REPORT_MS = 15_000;

/**
 * `daestro agent`: registers (or reuses its saved agent token), keeps one
 * graphql-ws link to the server, claims runs placed on its spawn when the
 * server rings and on a slow poll, runs them with the process or Docker
 * executor, heartbeats with its load, and stops runs the server cancels.
 * SIGTERM drains: no more claims, running runs get until the drain deadline,
 * then are handed back as ERROR (INFRA_FAILURE) to be retried elsewhere.
 */
export class Agent {
  /** Resolves when the agent has stopped: drained (code 0) or refused by the server (code 1). */
  readonly finished: Promise<AgentExit>;
  private finish!: (exit: AgentExit) => void;
  private readonly log: Logger;
  private readonly state: AgentStateDir;
  private readonly endpoints: { http: string; ws: string };
  private readonly hostLoad = new HostLoad();
  private readonly runs = new Map<string, RunTask>();
  private readonly executors: Record<JobDefinitionType, Executor | { unavailable: string }>;
  private readonly stopRegistering = new AbortController();
  private credential: Credential | undefined;
  private link: AgentLink | undefined;
  private unsubscribe: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeating: Promise<void> | undefined;
  private heartbeatAgain = false;
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  private draining = false;
  private stopping: Promise<void> | undefined;
  private reregistering: Promise<void> | undefined;

  constructor(
    private readonly options: AgentOptions,
    log: Logger,
  ) {
    this.log = log.child({ component: 'agent' });
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.state = new AgentStateDir(options.stateDir);
    this.endpoints = graphqlEndpoints(options.serverUrl);
    this.executors = {
      BASH: new ProcessExecutor({
        workRoot: this.state.workRoot,
        log: this.log,
        statsIntervalMs: options.statsIntervalMs,
        ...(options.cgroups !== undefined && { cgroups: options.cgroups }),
      }),
      DOCKER: options.docker
        ? new DockerExecutor({
            docker: options.docker,
            log: this.log,
            statsIntervalMs: options.statsIntervalMs,
            pullPolicy: options.pullPolicy,
          })
        : { unavailable: 'This agent has no Docker engine, so it cannot run DOCKER jobs.' },
    };
  }

  /**
   * Registers if it must, connects, and starts taking work. Rejects with
   * AgentStartError on a problem to fix. A stop() meanwhile ends it quietly.
   */
  async start(): Promise<void> {
    await this.state.prepare();
    let credential: Credential;
    try {
      credential = await this.obtainCredential();
    } catch (error) {
      if (this.draining) return;
      throw error;
    }
    if (this.draining) return;
    this.credential = credential;
    // Before any claim: afterwards a container of this spawn could be a run of this process.
    if (credential.spawnId) await this.reapLeftovers(credential.spawnId);
    this.connect();
  }

  /**
   * A killed agent leaves its runs' containers running; the server has failed those runs
   * over (or will, as they are not in this process's heartbeat), so they only cost the host.
   */
  private async reapLeftovers(spawnId: string): Promise<void> {
    for (const executor of Object.values(this.executors)) {
      if ('unavailable' in executor || !executor.reapLeftovers) continue;
      try {
        const runIds = await executor.reapLeftovers(spawnId);
        if (runIds.length > 0)
          this.log.warn({ runIds }, 'removed what runs of an earlier agent process left running');
      } catch (error) {
        this.log.warn({ err: error }, 'could not look for what an earlier agent process left running');
      }
    }
  }

  /** Graceful drain (SIGTERM): see the class comment. Resolves once offline; `finished` then gives code 0. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async obtainCredential(): Promise<Credential> {
    const { token } = this.options;
    const saved = await this.state.load();
    const savedHere =
      saved?.serverUrl === this.options.serverUrl || this.options.preferSavedToken ? saved : undefined;
    if (token?.startsWith(AGENT_TOKEN_PREFIX)) {
      return { ...(savedHere?.agentToken === token ? savedHere : {}), agentToken: token, fresh: false };
    }
    if (token?.startsWith(REGISTRATION_TOKEN_PREFIX)) {
      if (
        savedHere &&
        (this.options.preferSavedToken || savedHere.registrationTokenSha256 === sha256(token))
      ) {
        this.log.info(
          { spawnId: savedHere.spawnId, stateDir: this.options.stateDir },
          'reusing the saved agent token',
        );
        return { ...savedHere, fresh: false };
      }
      return this.register(token);
    }
    if (token !== undefined) {
      throw new AgentStartError(
        `The token must be a registration token (${REGISTRATION_TOKEN_PREFIX}…) or an agent token (${AGENT_TOKEN_PREFIX}…).`,
      );
    }
    if (savedHere) return { ...savedHere, fresh: false };
    throw new AgentStartError(
      `No token: pass --token ${REGISTRATION_TOKEN_PREFIX}… (the registration token shown when the compute environment ` +
        `was created) or set DAESTRO_AGENT_TOKEN. No agent token for ${this.options.serverUrl} is saved in ${this.options.stateDir}.`,
    );
  }

  private async register(registrationToken: string): Promise<Credential> {
    const load = this.hostLoad.sample();
    let registration;
    try {
      registration = await register(
        this.endpoints.http,
        {
          registrationToken,
          hostname: this.options.hostname,
          cpuCount: load.cpuCount,
          memoryMiB: load.memoryMiB,
          agentVersion: DAESTRO_VERSION,
        },
        { log: this.log, retry: this.options.reconnect, signal: this.stopRegistering.signal },
      );
    } catch (error) {
      if (error instanceof RegistrationRefusedError) throw new AgentStartError(error.message);
      throw error;
    }
    const saved: SavedAgent = {
      ...registration,
      serverUrl: this.options.serverUrl,
      registrationTokenSha256: sha256(registrationToken),
      registeredAt: new Date().toISOString(),
    };
    await this.state.save(saved);
    this.log.info(
      {
        spawnId: registration.spawnId,
        computeEnvironment: registration.computeEnvironmentName,
        slots: registration.slots,
        leaseSeconds: registration.leaseSeconds,
      },
      'registered',
    );
    return { ...registration, fresh: true };
  }

  private connect(): void {
    const credential = this.credential!;
    this.link = new AgentLink({
      url: this.endpoints.ws,
      agentToken: credential.agentToken,
      log: this.log,
      reconnect: this.options.reconnect,
      keepAliveMs: this.options.keepAliveMs,
      onConnected: () => {
        credential.connected = true;
        // Rings and cancels may have been missed while the link was down.
        this.heartbeat();
        this.claimSoon();
      },
      onRefused: (error) => this.refused(error.message),
    });
    this.unsubscribe = this.link.subscribe<{ agentWakeups: { reason: string } }>(
      AGENT_WAKEUPS,
      ({ agentWakeups }) => {
        this.log.debug({ reason: agentWakeups.reason }, 'wake-up');
        if (agentWakeups.reason === 'CANCEL_REQUESTED') this.heartbeat();
        else this.claimSoon();
      },
    );
    const heartbeatMs =
      this.options.heartbeatIntervalMs ??
      Math.min(MAX_HEARTBEAT_MS, credential.leaseSeconds ? (credential.leaseSeconds * 1000) / 3 : 1_000);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), heartbeatMs);
    if (!this.draining) this.pollTimer = setInterval(() => this.claimSoon(), this.options.pollIntervalMs);
    this.log.info(
      {
        server: this.options.serverUrl,
        spawnId: credential.spawnId,
        slots: credential.slots,
        stateDir: this.options.stateDir,
      },
      'agent started',
    );
  }

  private async disconnect(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.pollTimer);
    this.unsubscribe?.();
    await this.link?.close();
    this.link = undefined;
  }

  /** The token was refused or the spawn retired: register anew when a registration token is at hand, else stop. */
  private refused(why: string): void {
    if (this.stopping || this.reregistering) return;
    const registrationToken = this.options.token?.startsWith(REGISTRATION_TOKEN_PREFIX)
      ? this.options.token
      : undefined;
    if (!registrationToken || (this.credential?.fresh && !this.credential.connected)) {
      this.log.error({ why }, 'the server no longer accepts this agent');
      void this.giveUp(
        registrationToken
          ? `${why} The token was issued moments ago by the same server: is --url the address of one server?`
          : `${why} Start the agent with a registration token (--token ${REGISTRATION_TOKEN_PREFIX}…) to register it again.`,
      );
      return;
    }
    this.log.warn({ why }, 'registering again');
    this.reregistering = (async () => {
      // The runs belong to the old spawn, whose leases the server will expire.
      for (const run of this.runs.values()) run.drop('the agent is registering again as a new spawn');
      await this.disconnect();
      await this.state.forget();
      try {
        this.credential = await this.register(registrationToken);
      } catch (error) {
        if (!this.stopping) void this.giveUp((error as Error).message);
        return;
      }
      if (!this.stopping) this.connect();
    })().finally(() => (this.reregistering = undefined));
  }

  private giveUp(message: string): Promise<void> {
    this.stopping ??= (async () => {
      for (const run of this.runs.values()) run.drop('the agent is stopping');
      await Promise.all([...this.runs.values()].map((run) => run.done));
      await this.disconnect();
      this.finish({ code: 1, message });
    })();
    return this.stopping;
  }

  private heartbeat(): void {
    if (this.heartbeating) {
      this.heartbeatAgain = true;
      return;
    }
    this.heartbeating = (async () => {
      do {
        this.heartbeatAgain = false;
        await this.sendHeartbeat();
      } while (this.heartbeatAgain && this.link);
    })().finally(() => (this.heartbeating = undefined));
  }

  private async sendHeartbeat(): Promise<void> {
    const link = this.link;
    if (!link) return;
    const load = this.hostLoad.sample();
    try {
      const { agentHeartbeat } = await link.request<{ agentHeartbeat: HeartbeatAck }>(AGENT_HEARTBEAT, {
        // Every run until its finishRun is answered: the server fails claimed runs an agent does not name.
        input: { slotsUsed: this.runs.size, heldRunIds: [...this.runs.keys()], ...load },
      });
      for (const runId of agentHeartbeat.cancelRunIds) this.runs.get(runId)?.cancel();
    } catch (error) {
      if (error instanceof LinkClosedError) return;
      if (
        error instanceof AgentRequestError &&
        (error.reason === 'SPAWN_RETIRED' || error.code === 'UNAUTHENTICATED')
      ) {
        return this.refused(`The server retired this agent's spawn (${error.message}).`);
      }
      this.log.warn({ err: error }, 'heartbeat failed');
    }
  }

  private claimSoon(): void {
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = (async () => {
      do {
        this.claimAgain = false;
        await this.claim();
      } while (this.claimAgain);
    })().finally(() => (this.claiming = undefined));
  }

  private async claim(): Promise<void> {
    const link = this.link;
    const free = (this.credential?.slots ?? UNKNOWN_SLOTS_CLAIM) - this.runs.size;
    if (!link || this.draining || free <= 0) return;
    let claimed: ClaimedRun[];
    try {
      ({ claimRuns: claimed } = await link.request<{ claimRuns: ClaimedRun[] }>(CLAIM_RUNS, { max: free }));
    } catch (error) {
      if (!(error instanceof LinkClosedError)) this.log.warn({ err: error }, 'claim failed');
      return;
    }
    for (const run of claimed) this.startRun(run);
  }

  private startRun(claim: ClaimedRun): void {
    const draining = this.draining;
    const task = new RunTask(claim, {
      link: this.link!,
      // A run claimed just as the drain began goes straight back.
      executorFor: (type) =>
        draining
          ? { unavailable: 'The agent was shutting down when it claimed the run.' }
          : this.executors[type],
      log: this.log,
      spillDir: this.state.spillDir,
      logBufferBytes: this.options.logBufferBytes,
      retry: this.options.reconnect,
      ...(this.options.gracePeriodSeconds !== undefined && {
        gracePeriodSeconds: this.options.gracePeriodSeconds,
      }),
      ...(this.options.dockerNetwork && { dockerNetwork: this.options.dockerNetwork }),
      ...(this.credential?.spawnId && { spawnId: this.credential.spawnId }),
    });
    this.runs.set(claim.runId, task);
    void task.done.then(() => {
      this.runs.delete(claim.runId);
      this.claimSoon();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.stopRegistering.abort();
    await this.reregistering;
    clearInterval(this.pollTimer);
    const deadlineSeconds = Math.round(this.options.drainTimeoutMs / 1000);
    this.log.info({ runs: this.runs.size, deadlineSeconds }, 'draining: no new runs');
    if (!(await settlesWithin(this.runsDone(), this.options.drainTimeoutMs))) {
      for (const run of this.runs.values()) {
        run.handBack(
          `Handed back: the agent shut down before the run finished (drain deadline ${deadlineSeconds} s).`,
        );
      }
      const reportMs = (this.options.gracePeriodSeconds ?? 10) * 1000 + HAND_BACK_REPORT_MS;
      if (!(await settlesWithin(this.runsDone(), reportMs))) {
        this.log.warn(
          { runs: [...this.runs.keys()] },
          'runs not reported before exit; the server will time out their lease',
        );
      }
    }
    if (this.link?.connected) {
      await settlesWithin(
        this.link
          .request(AGENT_GOING_OFFLINE)
          .catch((error: unknown) => this.log.warn({ err: error }, 'agentGoingOffline failed')),
        GOING_OFFLINE_TIMEOUT_MS,
      );
    }
    await this.disconnect();
    this.log.info('agent stopped');
    this.finish({ code: 0 });
  }

  private runsDone(): Promise<unknown> {
    return Promise.all([...this.runs.values()].map((run) => run.done));
  }
}

/** The HTTP and WebSocket addresses of the GraphQL endpoint under a server's base URL. */
export function graphqlEndpoints(serverUrl: string): { http: string; ws: string } {
  const url = new URL(serverUrl);
  const base = url.href.replace(/\/+$/, '').replace(/\/graphql$/, '');
  const http = `${base}/graphql`.replace(/^ws/, 'http');
  return { http, ws: http.replace(/^http/, 'ws') };
}

function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}

export function defaultHostname(): string {
  return os.hostname();
}
