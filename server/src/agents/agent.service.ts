import { availableParallelism } from 'node:os';
import type { EntityManager } from '@mikro-orm/postgresql';
import { MembershipRole } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import { hashSecretToken, newSecretToken } from '../accounts/secret-token.js';
import type { ClientInfo } from '../accounts/session.service.js';
import type { Throttle } from '../accounts/throttle.js';
import type { Viewer } from '../accounts/viewer.js';
import type { LimitsService } from '../billing/limits.service.js';
import type { CredentialService } from '../credentials/credential.service.js';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import { AuditService } from '../privacy/audit.service.js';
import { pgArray, SLOT_HOLDING_RUN_STATES } from '../scheduler/dispatch-rules.js';
import { notifyScheduler } from '../scheduler/notify.js';
import {
  RunLeaseError,
  RunLifecycleService,
  SpawnRetiredError,
  type ClaimedRun as LeasedRun,
  type HeartbeatAck,
  type RunLifecycleOptions,
  type RunResult,
} from '../scheduler/run-lifecycle.service.js';
import type { SecretService } from '../secrets/secret.service.js';
import { ComputeEnvironment, ComputeEnvironmentKind } from '../workloads/compute-environment.entity.js';
import { issueRegistrationToken } from '../workloads/compute-environment.service.js';
import { ComputeSpawn, ComputeSpawnState } from '../workloads/compute-spawn.entity.js';
import { JobQueue, JobQueueLink } from '../workloads/job-queue.entity.js';
import type { JobState } from '../workloads/job-state.js';
import { Project } from '../workloads/project.entity.js';
import { DEFAULT_PROJECT_CODE } from '../workloads/project.service.js';
import type { AgentPrincipal } from './agent-principal.js';
import { AGENT_TOKEN_PREFIX } from './token-prefixes.js';
import type { AgentWakeupEvent } from './agent-wakeup.js';
import type { RunLease } from './run-lease.js';

export interface AgentServiceDeps {
  organizations: OrganizationService;
  credentials: CredentialService;
  secrets: SecretService;
  limits: LimitsService;
  throttle: Throttle;
  pubSub: DaestroPubSub;
  /** A spawn silent this long is LOST. */
  leaseSeconds: number;
  /** A run claimed this long ago that the agent's heartbeat does not list as held ends in ERROR. */
  claimGraceSeconds: number;
}

/** What a machine says about itself when it registers. */
export interface AgentRegistration {
  registrationToken: string;
  hostname: string;
  cpuCount?: number | null;
  memoryMiB?: number | null;
  agentVersion?: string | null;
}

/** A claimed run with its registry login opened (DOCKER definitions with a registry auth). */
export interface ClaimedRunWithCredential extends LeasedRun {
  registryCredential: { serverAddress: string; username: string; token: string } | null;
}

export interface HeartbeatReport {
  slotsUsed: number;
  cpuCount?: number | null;
  memoryMiB?: number | null;
  /** Every run the agent holds; absent from older agents. */
  heldRunIds?: string[] | null;
}

/** The embedded agent's compute environment and queue (`pnpm start`). */
export const LOCAL_ENVIRONMENT_NAME = 'local';
export const LOCAL_QUEUE_NAME = 'default';
const MAX_HOSTNAME = 255;
/** More than any machine runs at once. */
const MAX_HELD_RUN_IDS = 1_000;
const CONTROL_CHARACTERS = /\p{Cc}/u;

/**
 * The server side of `daestro agent`: registration, the agent credential, and
 * the agent-facing operations, which wrap RunLifecycleService (the scheduler's)
 * for the calling agent's spawn. Audit events are recorded through each
 * transaction's own EntityManager, so they commit with the change they record.
 */
export class AgentService {
  private readonly lifecycleOptions: RunLifecycleOptions;

  constructor(
    private readonly em: EntityManager,
    private readonly deps: AgentServiceDeps,
  ) {
    this.lifecycleOptions = {
      pubSub: deps.pubSub,
      secrets: deps.secrets,
      agentLeaseSeconds: deps.leaseSeconds,
      claimGraceSeconds: deps.claimGraceSeconds,
    };
  }

  /** How long a spawn's lease lasts after each heartbeat. */
  get leaseSeconds(): number {
    return this.deps.leaseSeconds;
  }

  /**
   * Exchanges a compute environment's registration token for a new spawn (ONLINE,
   * with a lease) and the agent's own token, returned this once; only its hash is kept.
   */
  async register(
    input: AgentRegistration,
    client: ClientInfo,
  ): Promise<{ agentToken: string; spawn: ComputeSpawn; environment: ComputeEnvironment }> {
    await this.deps.throttle.consume('registerAgent', client);
    const hostname = checkHostname(input.hostname);
    if (input.cpuCount != null && !(Number.isFinite(input.cpuCount) && input.cpuCount > 0)) {
      throw UserError.badUserInput('cpuCount is the number of CPUs: more than 0.', { field: 'cpuCount' });
    }
    if (input.memoryMiB != null && input.memoryMiB < 0) {
      throw UserError.badUserInput('memoryMiB is 0 or more.', { field: 'memoryMiB' });
    }
    const token = newSecretToken(AGENT_TOKEN_PREFIX);
    const registered = await this.em.transactional(async (em) => {
      const environment = await em.findOne(
        ComputeEnvironment,
        { registrationTokenHash: hashSecretToken(input.registrationToken.trim()) },
        { populate: ['project.organization'] },
      );
      if (!environment) {
        throw UserError.unauthenticated(
          'This registration token is not valid: it is mistyped, or the compute environment’s token was rotated. ' +
            'Copy the current one from the compute environment’s page.',
        );
      }
      const organization = environment.project.organization;
      // One registration at a time per organization, so two cannot both take the last spawn the plan allows.
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`spawns:${organization.id}`]);
      const [{ count }] = await em.execute<[{ count: number }]>(
        `select count(*)::int as count from compute_spawn s
         join compute_environment e on e.id = s.compute_environment_id join project p on p.id = e.project_id
         where p.organization_id = ? and s.state <> 'TERMINATED'`,
        [organization.id],
      );
      this.deps.limits.assertRoomForOneMore(organization.plan, 'computeSpawns', count);
      const now = new Date();
      const spawn = em.create(ComputeSpawn, {
        computeEnvironment: environment,
        state: ComputeSpawnState.ONLINE,
        hostname,
        agentTokenHash: token.hash,
        slots: environment.slotsPerSpawn,
        cpuCount: input.cpuCount ?? undefined,
        memoryMiB: input.memoryMiB ?? undefined,
        lastHeartbeatAt: now,
        leaseExpiresAt: new Date(now.getTime() + this.deps.leaseSeconds * 1000),
        idleSince: now,
      });
      new AuditService(em).record({
        action: 'agent.registered',
        organizationId: organization.id,
        client,
        details: {
          spawnId: spawn.id,
          computeEnvironmentId: environment.id,
          name: environment.name,
          projectId: environment.project.id,
          hostname,
          agentVersion: input.agentVersion?.slice(0, 100) ?? null,
        },
      });
      await em.flush();
      // A new machine may take runnable jobs at once.
      await notifyScheduler(em, 'spawn.online');
      return { spawn, environment };
    });
    return { agentToken: token.secret, ...registered };
  }

  /** The agent an agent token belongs to; undefined when it is unknown or its spawn was retired. */
  async authenticate(agentToken: string): Promise<AgentPrincipal | undefined> {
    const [row] = await this.em.execute<
      { spawn_id: string; compute_environment_id: string; project_id: string }[]
    >(
      `select s.id as spawn_id, s.compute_environment_id, e.project_id
       from compute_spawn s join compute_environment e on e.id = s.compute_environment_id
       where s.agent_token_hash = ? and s.state <> 'TERMINATED'`,
      [hashSecretToken(agentToken)],
    );
    return row
      ? { spawnId: row.spawn_id, computeEnvironmentId: row.compute_environment_id, projectId: row.project_id }
      : undefined;
  }

  /**
   * Up to `max` runs placed on the agent's spawn, each with a lease token and its
   * secrets opened. Claim and opening are one transaction: if a secret cannot be
   * opened nothing is claimed, so no run is left held by an agent that never heard of it.
   */
  claimRuns(agent: AgentPrincipal, max: number): Promise<ClaimedRunWithCredential[]> {
    return this.em.transactional(async (em) => {
      const runs = await new RunLifecycleService(em, this.lifecycleOptions).claimRuns(agent.spawnId, max);
      const claimed: ClaimedRunWithCredential[] = [];
      for (const run of runs)
        claimed.push({ ...run, registryCredential: await this.registryCredential(agent, run) });
      return claimed;
    });
  }

  /** STARTING → RUNNING: the run's process or container started. */
  async markRunStarted(lease: RunLease): Promise<void> {
    await this.lifecycle().markRunning(lease.runId, lease.leaseToken);
  }

  /**
   * The run ended; returns its job's state. Idempotent: an agent whose answer was
   * lost sends the same outcome again under the same lease and gets the job's
   * current state; any other write under a finished lease is refused (STALE_LEASE).
   */
  async finishRun(lease: RunLease, result: RunResult): Promise<JobState | null> {
    try {
      return await this.lifecycle().finishRun(lease.runId, lease.leaseToken, result);
    } catch (error) {
      if (!(error instanceof RunLeaseError) || !isValidId(lease.runId) || !isValidId(lease.leaseToken))
        throw error;
      const [finished] = await this.em.execute<{ job_state: JobState }[]>(
        `select j.state as job_state from job_run r join job j on j.id = r.job_id
         where r.id = ? and r.lease_token = ? and r.state = ?`,
        [lease.runId, lease.leaseToken, result.outcome],
      );
      if (!finished) throw error;
      return finished.job_state;
    }
  }

  heartbeat(agent: AgentPrincipal, report: HeartbeatReport): Promise<HeartbeatAck> {
    if (!Number.isInteger(report.slotsUsed) || report.slotsUsed < 0) {
      throw UserError.badUserInput('slotsUsed is the number of runs executing: 0 or more.', {
        field: 'slotsUsed',
      });
    }
    if (report.heldRunIds && report.heldRunIds.length > MAX_HELD_RUN_IDS) {
      throw UserError.badUserInput(`heldRunIds lists at most ${MAX_HELD_RUN_IDS} runs.`, {
        field: 'heldRunIds',
      });
    }
    return this.lifecycle().heartbeat(agent.spawnId, {
      slotsUsed: report.slotsUsed,
      cpuCount: report.cpuCount ?? undefined,
      memoryMiB: report.memoryMiB ?? undefined,
      heldRunIds: report.heldRunIds ?? undefined,
    });
  }

  /**
   * A clean shutdown: the spawn goes OFFLINE and takes no more runs (a later
   * heartbeat brings it back). Runs it still holds are not abandoned: its lease
   * ends now, so the scheduler marks it LOST and they fail over by their retry policy.
   */
  async goOffline(agent: AgentPrincipal): Promise<void> {
    const [spawn] = await this.em.execute<{ id: string }[]>(
      `update compute_spawn s set
         state = case when held.count = 0 then 'OFFLINE'::compute_spawn_state else s.state end,
         lease_expires_at = case when held.count = 0 then s.lease_expires_at else now() end
       from (select count(*)::int as count from job_run
             where spawn_id = ? and state = any(?::job_run_state[])) held
       where s.id = ? and s.state <> 'TERMINATED'
       returning s.id`,
      [agent.spawnId, pgArray(SLOT_HOLDING_RUN_STATES), agent.spawnId],
    );
    if (!spawn) throw new SpawnRetiredError(agent.spawnId);
  }

  /** The agent's doorbell: runs placed on its spawn, cancels of runs it holds. */
  wakeups(agent: AgentPrincipal): AsyncIterable<AgentWakeupEvent> {
    return this.deps.pubSub.subscribe('agent.wakeup', agent.spawnId);
  }

  /**
   * Retires a machine for good (owners and admins): its agent token stops
   * working at once and its open connections close. Refused while it holds runs.
   */
  async retireSpawn(viewer: Viewer, spawnId: string, client: ClientInfo): Promise<ComputeSpawn> {
    const spawn = isValidId(spawnId)
      ? await this.em.findOne(ComputeSpawn, { id: spawnId }, { populate: ['computeEnvironment.project'] })
      : null;
    if (!spawn) throw UserError.notFound('Compute spawn', spawnId);
    const environment = spawn.computeEnvironment;
    try {
      await this.deps.organizations.requireProject(viewer, environment.project.id, MembershipRole.ADMIN);
    } catch (error) {
      if (error instanceof UserError && error.code === 'NOT_FOUND')
        throw UserError.notFound('Compute spawn', spawnId);
      throw error;
    }
    if (spawn.state === ComputeSpawnState.TERMINATED) return spawn;
    const retired = await this.em.transactional(async (em) => {
      const [row] = await em.execute<{ id: string }[]>(
        `update compute_spawn s set state = 'TERMINATED', agent_token_hash = null, slots_used = 0
         where s.id = ? and s.state <> 'TERMINATED'
           and not exists (select 1 from job_run r where r.spawn_id = s.id and r.state = any(?::job_run_state[]))
         returning s.id`,
        [spawn.id, pgArray(SLOT_HOLDING_RUN_STATES)],
      );
      if (!row) return false;
      new AuditService(em).record({
        action: 'compute_spawn.retired',
        actorId: viewer.userId,
        organizationId: environment.project.organization.id,
        client,
        details: { spawnId: spawn.id, hostname: spawn.hostname, computeEnvironmentId: environment.id },
      });
      await em.flush();
      return true;
    });
    const current = await this.em.refresh(spawn);
    if (current?.state !== ComputeSpawnState.TERMINATED) {
      throw UserError.conflict(
        `${spawn.hostname} is still running jobs: cancel them or let them finish first. (If the machine is gone, ` +
          'its runs fail over once its lease runs out.)',
      );
    }
    if (retired) this.deps.pubSub.publish('agent.revoked', { spawnId: spawn.id });
    return spawn;
  }

  /**
   * For the embedded agent (`pnpm start`): the organization's SELF_HOSTED compute
   * environment `local` (one slot per CPU, at least 2) with an enabled queue
   * `default` linked to it, created once; and a fresh registration token for the
   * in-process agent. The token replaces the previous one; never log it.
   */
  async ensureLocalComputeEnvironment(
    organizationId: string,
  ): Promise<{ environment: ComputeEnvironment; queue: JobQueue; registrationToken: string }> {
    return this.em.transactional(async (em) => {
      // Replicas starting together create it once.
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`local-compute:${organizationId}`]);
      const audit = new AuditService(em);
      const project =
        (await em.findOne(Project, { organization: organizationId, code: DEFAULT_PROJECT_CODE })) ??
        (await em.findOne(
          Project,
          { organization: organizationId },
          { orderBy: { createdAt: 'asc', id: 'asc' } },
        ));
      if (!project)
        throw new Error(`Organization ${organizationId} has no project to put the local agent in.`);
      let environment = await em.findOne(ComputeEnvironment, { project, name: LOCAL_ENVIRONMENT_NAME });
      if (!environment) {
        environment = em.create(ComputeEnvironment, {
          project,
          name: LOCAL_ENVIRONMENT_NAME,
          kind: ComputeEnvironmentKind.SELF_HOSTED,
          slotsPerSpawn: Math.max(2, availableParallelism()),
        });
        audit.record({
          action: 'compute_environment.created',
          organizationId,
          details: {
            computeEnvironmentId: environment.id,
            name: environment.name,
            kind: environment.kind,
            projectId: project.id,
          },
        });
      } else if (environment.kind !== ComputeEnvironmentKind.SELF_HOSTED) {
        throw new Error(`Compute environment ${LOCAL_ENVIRONMENT_NAME} exists and is not SELF_HOSTED.`);
      }
      const registrationToken = issueRegistrationToken(environment);
      audit.record({
        action: 'compute_environment.token_rotated',
        organizationId,
        details: {
          computeEnvironmentId: environment.id,
          name: environment.name,
          projectId: project.id,
          embedded: true,
        },
      });
      let queue = await em.findOne(JobQueue, { project, name: LOCAL_QUEUE_NAME });
      if (!queue) {
        // Only a queue we create is linked and enabled: one the user made or changed stays as they left it.
        queue = em.create(JobQueue, {
          project,
          name: LOCAL_QUEUE_NAME,
          description: 'Runs jobs on this server’s own agent.',
          priority: 100,
          maxConcurrency: 0,
          maxIdleSeconds: 300,
          enabled: true,
        });
        em.create(JobQueueLink, { queue, computeEnvironment: environment, position: 0 });
      }
      await em.flush();
      await notifyScheduler(em, 'queue.changed');
      return { environment, queue, registrationToken };
    });
  }

  private lifecycle(): RunLifecycleService {
    return new RunLifecycleService(this.em, this.lifecycleOptions);
  }

  /** The registry login of a DOCKER run's definition, opened for the claiming agent only. */
  private async registryCredential(
    agent: AgentPrincipal,
    run: LeasedRun,
  ): Promise<ClaimedRunWithCredential['registryCredential']> {
    if (!run.registryAuthId) return null;
    const login = await this.deps.credentials.openRegistryLogin(
      await this.deps.credentials.requireRegistryAuth(agent.projectId, run.registryAuthId),
    );
    return { serverAddress: login.registryUrl, username: login.username, token: login.password };
  }
}

function checkHostname(raw: string): string {
  const hostname = raw.trim();
  if (hostname === '' || hostname.length > MAX_HOSTNAME || CONTROL_CHARACTERS.test(hostname)) {
    throw UserError.badUserInput(
      `hostname is the machine's name: 1 to ${MAX_HOSTNAME} characters on one line.`,
      {
        field: 'hostname',
      },
    );
  }
  return hostname;
}
