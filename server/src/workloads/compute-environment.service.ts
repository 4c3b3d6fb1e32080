import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { MembershipRole } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import { newSecretToken, shownPrefix } from '../accounts/secret-token.js';
import type { ClientInfo } from '../accounts/session.service.js';
import type { Viewer } from '../accounts/viewer.js';
import type { LimitsService } from '../billing/limits.service.js';
import type { CredentialService } from '../credentials/credential.service.js';
import { UserError } from '../graphql/errors.js';
import type { AuditService } from '../privacy/audit.service.js';
import { pgArray, SLOT_HOLDING_RUN_STATES } from '../scheduler/dispatch-rules.js';
import { notifyScheduler } from '../scheduler/notify.js';
import { ComputeEnvironment, ComputeEnvironmentKind } from './compute-environment.entity.js';
import { ComputeSpawn, ComputeSpawnState } from './compute-spawn.entity.js';
import type { CreateComputeEnvironmentInput } from './compute-environment.types.js';
import { JobQueue } from './job-queue.entity.js';
import { inTransaction, loaded } from './load.js';
import { REGISTRATION_TOKEN_PREFIX } from '../agents/token-prefixes.js';
import type { Project } from './project.entity.js';
import { formatReference, type WorkloadReferences } from './reference.js';
import { parseResourceName } from './resource-name.js';
import { checkInteger, checkText } from './validation.js';

/**
 * Gives a SELF_HOSTED environment a new registration token (replacing any other)
 * and returns it: agents present it once to register a machine; only its sha256
 * and first characters are stored.
 */
export function issueRegistrationToken(
  environment: Pick<ComputeEnvironment, 'registrationTokenHash' | 'registrationTokenPrefix'>,
): string {
  const token = newSecretToken(REGISTRATION_TOKEN_PREFIX);
  environment.registrationTokenHash = token.hash;
  environment.registrationTokenPrefix = shownPrefix(token.secret);
  return token.secret;
}
const SLOTS_PER_SPAWN = { min: 1, max: 256 };
const CLOUD_ONLY_FIELDS = ['cloudAuthId', 'region', 'instanceType', 'maxSpawns'] as const;

export interface ComputeEnvironmentServiceDeps {
  organizations: OrganizationService;
  references: WorkloadReferences;
  credentials: CredentialService;
  limits: LimitsService;
  audit: AuditService;
}

/**
 * Compute environments: creating one and rotating its registration token hand
 * out a credential, so both need an organization owner or admin.
 */
export class ComputeEnvironmentService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: ComputeEnvironmentServiceDeps,
  ) {}

  /** The registration token (SELF_HOSTED) is returned this once. */
  async create(
    viewer: Viewer,
    input: CreateComputeEnvironmentInput,
    client: ClientInfo,
  ): Promise<{ environment: ComputeEnvironment; registrationToken: string | null }> {
    const { project } = await this.deps.organizations.requireProject(
      viewer,
      input.projectId,
      MembershipRole.ADMIN,
    );
    const name = parseResourceName(input.name);
    const id = uuidv7();
    const slotsPerSpawn = checkInteger(input.slotsPerSpawn, SLOTS_PER_SPAWN, 'slotsPerSpawn');
    let environment: ComputeEnvironment;
    let registrationToken: string | null = null;
    if (input.kind === ComputeEnvironmentKind.SELF_HOSTED) {
      const cloudField = CLOUD_ONLY_FIELDS.find((field) => input[field] != null);
      if (cloudField) {
        throw UserError.badUserInput(`${cloudField} is for CLOUD compute environments only: remove it.`, {
          field: cloudField,
        });
      }
      environment = this.em.create(ComputeEnvironment, {
        id,
        project,
        name,
        kind: input.kind,
        slotsPerSpawn,
      });
      registrationToken = issueRegistrationToken(environment);
    } else {
      environment = this.em.create(ComputeEnvironment, {
        id,
        project,
        name,
        kind: input.kind,
        slotsPerSpawn,
        ...(await this.checkCloud(viewer, project, input, { id, name }, client)),
      });
    }
    this.deps.audit.record({
      action: 'compute_environment.created',
      actorId: viewer.userId,
      organizationId: project.organization.id,
      client,
      details: { computeEnvironmentId: id, name, kind: input.kind, projectId: project.id },
    });
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw UserError.conflict(`A compute environment named ${name} already exists in this project.`, {
          field: 'name',
        });
      }
      throw error;
    }
    return { environment, registrationToken };
  }

  /** A new registration token; the old one stops working at once (registered agents keep their own). */
  async rotateRegistrationToken(
    viewer: Viewer,
    environmentText: string,
    client: ClientInfo,
  ): Promise<{ environment: ComputeEnvironment; registrationToken: string }> {
    const { entity: environment, project } = await this.deps.references.computeEnvironment(
      viewer,
      environmentText,
      {
        field: 'computeEnvironment',
        minimum: MembershipRole.ADMIN,
      },
    );
    if (environment.kind !== ComputeEnvironmentKind.SELF_HOSTED) {
      throw UserError.badUserInput(
        `${environment.name} is a CLOUD environment: its machines are started by Daestro and need no registration token.`,
        { field: 'computeEnvironment' },
      );
    }
    const registrationToken = issueRegistrationToken(environment);
    this.deps.audit.record({
      action: 'compute_environment.token_rotated',
      actorId: viewer.userId,
      organizationId: project.organization.id,
      client,
      details: { computeEnvironmentId: environment.id, name: environment.name, projectId: project.id },
    });
    await this.em.flush();
    return { environment, registrationToken };
  }

  /** Refused while a queue links it; its machines' records go with it. */
  async delete(viewer: Viewer, environmentText: string, client: ClientInfo): Promise<string> {
    const { entity: environment, project } = await this.deps.references.computeEnvironment(
      viewer,
      environmentText,
      {
        field: 'computeEnvironment',
        minimum: MembershipRole.ADMIN,
      },
    );
    await inTransaction(this.em, async () => {
      const locked = await this.em.findOneOrFail(ComputeEnvironment, environment.id, {
        lockMode: LockMode.PESSIMISTIC_WRITE,
        refresh: true,
      });
      const queues = await this.linkedQueues(locked);
      if (queues.length > 0) {
        throw UserError.conflict(
          `Compute environment ${locked.name} is linked to the queue${queues.length === 1 ? '' : 's'} ` +
            `${queues.map((queue) => queue.name).join(', ')}: unlink it (setJobQueueComputeEnvironments) first.`,
        );
      }
      // Its machines are locked first, so no run can be placed on them from here on (placement
      // would wait, then fail); runs placed before are counted below.
      await this.em.execute('select id from compute_spawn where compute_environment_id = ? for update', [
        locked.id,
      ]);
      const [{ active }] = await this.em.execute<[{ active: number }]>(
        `select count(*)::int as active from compute_spawn s join job_run r on r.spawn_id = s.id
         where s.compute_environment_id = ? and r.state = any(?::job_run_state[])`,
        [locked.id, pgArray(SLOT_HOLDING_RUN_STATES)],
      );
      if (active > 0) {
        throw UserError.conflict(
          `Compute environment ${locked.name} is still running ${active === 1 ? 'a job' : `${active} jobs`}: ` +
            'cancel them or let them finish first.',
        );
      }
      this.deps.audit.record({
        action: 'compute_environment.deleted',
        actorId: viewer.userId,
        organizationId: project.organization.id,
        client,
        details: { computeEnvironmentId: locked.id, name: locked.name, projectId: project.id },
      });
      // Its machines go with it; their finished runs keep where they ran by name (spawn_hostname).
      this.em.remove(locked);
      await notifyScheduler(this.em, 'compute_environment.changed');
    });
    return environment.id;
  }

  async list(viewer: Viewer, projectId: string): Promise<ComputeEnvironment[]> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    return this.em.find(ComputeEnvironment, { project }, { orderBy: { name: 'asc' } });
  }

  async get(viewer: Viewer, environmentText: string): Promise<ComputeEnvironment> {
    const { entity } = await this.deps.references.computeEnvironment(viewer, environmentText, {
      field: 'id',
      minimum: MembershipRole.VIEWER,
    });
    return entity;
  }

  /** Its machines, newest first; retired ones only when asked. */
  spawns(environment: ComputeEnvironment, includeTerminated: boolean): Promise<ComputeSpawn[]> {
    return this.em.find(
      ComputeSpawn,
      {
        computeEnvironment: environment,
        ...(includeTerminated ? {} : { state: { $ne: ComputeSpawnState.TERMINATED } }),
      },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
  }

  /** Queues that place runs on it. */
  linkedQueues(environment: ComputeEnvironment): Promise<JobQueue[]> {
    return this.em.find(
      JobQueue,
      { links: { computeEnvironment: environment } },
      { orderBy: { name: 'asc' } },
    );
  }

  async reference(environment: ComputeEnvironment): Promise<string> {
    return formatReference(await loaded(environment.project), environment.name);
  }

  private async checkCloud(
    viewer: Viewer,
    project: Project,
    input: CreateComputeEnvironmentInput,
    environment: { id: string; name: string },
    client: ClientInfo,
  ) {
    if (!input.cloudAuthId) {
      throw UserError.badUserInput('A CLOUD compute environment needs a cloud auth (cloudAuthId).', {
        field: 'cloudAuthId',
      });
    }
    const region = checkText(input.region ?? '', 'region', { max: 100, what: 'The region' });
    const instanceType = checkText(input.instanceType ?? '', 'instanceType', {
      max: 100,
      what: 'The instance type',
    });
    const allowed = this.deps.limits.limitsOf(project.organization.plan).computeSpawns;
    if (input.maxSpawns == null) {
      throw UserError.badUserInput(`Give maxSpawns: the most VMs at once, 1 to ${allowed} on your plan.`, {
        field: 'maxSpawns',
      });
    }
    const maxSpawns = checkInteger(input.maxSpawns, { min: 1, max: Number.MAX_SAFE_INTEGER }, 'maxSpawns');
    if (maxSpawns > allowed) {
      throw UserError.limitExceeded(
        `The ${project.organization.plan} plan allows ${allowed} compute spawns; maxSpawns is ${maxSpawns}. ` +
          'Lower maxSpawns or change plans.',
        { limit: allowed, name: 'computeSpawns', plan: project.organization.plan },
      );
    }
    const cloudAuth = await this.deps.credentials.requireCloudAuth(project.id, input.cloudAuthId);
    this.deps.credentials.recordUse(cloudAuth, environment, {
      viewer,
      client,
      organizationId: project.organization.id,
    });
    return { cloudAuth, region, instanceType, maxSpawns };
  }
}
