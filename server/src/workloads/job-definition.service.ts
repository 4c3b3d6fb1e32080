import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { MembershipRole, roleAtLeast, type Membership } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import type { ClientInfo } from '../accounts/session.service.js';
import type { Viewer } from '../accounts/viewer.js';
import type { CredentialService } from '../credentials/credential.service.js';
import type { RegistryAuth } from '../credentials/registry-auth.entity.js';
import { toConnection, decodeCursor, type Connection } from '../graphql/connection.js';
import { UserError } from '../graphql/errors.js';
import { EnvVarSource, type EnvVar, type EnvVarInput, type EnvVars, type SealedEnv } from './env-vars.js';
import {
  JobDefinition,
  JobDefinitionType,
  type RetryPolicy,
  type StoredEnvVar,
} from './job-definition.entity.js';
import type {
  CreateJobDefinitionInput,
  DeactivateJobDefinitionInput,
  JobDefinitionFilter,
  UpdateJobDefinitionInput,
} from './job-definition.types.js';
import { loaded } from './load.js';
import type { Project } from './project.entity.js';
import { formatReference, type WorkloadReferences } from './reference.js';
import { parseResourceName } from './resource-name.js';
import { checkRetryPolicy, RetryPolicyInput } from './retry-policy.types.js';
import { checkInteger, checkRange, checkText, likePattern } from './validation.js';
import { checkCommand, checkParameters, type ParameterInput, toParameters } from './workloads.types.js';

const CPU = { min: 0.125, max: 64 };
const MEMORY_MIB = { min: 16, max: 262_144 };
const TIMEOUT_SECONDS = { min: 0, max: 30 * 24 * 3600 };
const MAX_IMAGE_LENGTH = 512;
const MAX_SCRIPT_LENGTH = 64 * 1024;

const PRIVILEGED_WARNING =
  'This definition runs privileged: its containers get full access to the machine they run on ' +
  '(devices and kernel capabilities). Run only images you trust.';

export interface JobDefinitionServiceDeps {
  organizations: OrganizationService;
  references: WorkloadReferences;
  envVars: EnvVars;
  credentials: CredentialService;
}

/** What a version says to run, before it is saved: create and update check it the same way. */
interface SpecInput {
  type: JobDefinitionType;
  image?: string | null;
  registryAuthId?: string | null;
  script?: string | null;
  command: string[];
  parameters: ParameterInput[];
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  retryPolicy: RetryPolicyInput;
  privileged: boolean;
}

type Spec = Pick<
  JobDefinition,
  | 'type'
  | 'image'
  | 'registryAuth'
  | 'script'
  | 'command'
  | 'parameters'
  | 'cpu'
  | 'memoryMiB'
  | 'timeoutSeconds'
> & { retryPolicy: RetryPolicy; privileged: boolean };

export interface SavedDefinition {
  definition: JobDefinition;
  warnings: string[];
}

/**
 * Job definitions: immutable versions, one per edit. Readers need VIEWER,
 * writers MEMBER; only owners and admins may save a privileged version.
 */
export class JobDefinitionService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: JobDefinitionServiceDeps,
  ) {}

  async create(
    viewer: Viewer,
    input: CreateJobDefinitionInput,
    client: ClientInfo,
  ): Promise<SavedDefinition> {
    const { project, membership } = await this.deps.organizations.requireProject(
      viewer,
      input.projectId,
      MembershipRole.MEMBER,
    );
    const name = parseResourceName(input.name);
    const spec = await this.checkSpec(project, membership, {
      ...input,
      retryPolicy: input.retryPolicy ?? new RetryPolicyInput(),
    });
    if ((await this.em.count(JobDefinition, { project, name })) > 0) throw nameTaken(name);
    return this.save(viewer, client, { project, name, version: 1, spec, env: { inputs: input.env } });
  }

  /** Writes version n+1 from the given version with the input's changes. */
  async update(
    viewer: Viewer,
    input: UpdateJobDefinitionInput,
    client: ClientInfo,
  ): Promise<SavedDefinition> {
    const {
      entity: base,
      project,
      membership,
    } = await this.deps.references.definition(viewer, input.definition, {
      field: 'definition',
      minimum: MembershipRole.MEMBER,
    });
    const type = input.type ?? base.type;
    // Switching between DOCKER and BASH drops what only the other type has.
    const kept = <T>(given: T | null | undefined, current: T | undefined): T | null | undefined =>
      given !== undefined ? given : type === base.type ? current : undefined;
    const spec = await this.checkSpec(project, membership, {
      type,
      image: kept(input.image, base.image),
      registryAuthId: kept(input.registryAuthId, base.registryAuth?.id),
      script: kept(input.script, base.script),
      command: input.command ?? base.command,
      parameters: input.parameters ?? toParameters(base.parameters),
      cpu: input.cpu ?? base.cpu,
      memoryMiB: input.memoryMiB ?? base.memoryMiB,
      timeoutSeconds: input.timeoutSeconds ?? base.timeoutSeconds,
      retryPolicy: input.retryPolicy ?? Object.assign(new RetryPolicyInput(), base.retryPolicy),
      privileged: kept(input.privileged, base.privileged) ?? false,
    });
    const latest = await this.em.findOneOrFail(
      JobDefinition,
      { project, name: base.name },
      { orderBy: { version: 'desc' } },
    );
    const baseEnv = this.sealedEnv(base);
    return this.save(viewer, client, {
      project,
      name: base.name,
      version: latest.version + 1,
      spec,
      env: input.env ? { inputs: input.env, previous: baseEnv } : { copyFrom: baseEnv },
      previousRegistryAuthId: base.registryAuth?.id,
    });
  }

  /** Deactivated versions accept no new jobs; jobs already submitted still run. */
  async deactivate(viewer: Viewer, input: DeactivateJobDefinitionInput): Promise<JobDefinition[]> {
    const { entity, project } = await this.deps.references.definition(viewer, input.definition, {
      field: 'definition',
      minimum: MembershipRole.MEMBER,
    });
    const versions = input.allVersions
      ? await this.em.find(JobDefinition, { project, name: entity.name }, { orderBy: { version: 'desc' } })
      : [entity];
    for (const version of versions) version.active = false;
    await this.em.flush();
    return versions;
  }

  async get(viewer: Viewer, idOrReference: string): Promise<JobDefinition> {
    const { entity } = await this.deps.references.definition(viewer, idOrReference, {
      field: 'id',
      minimum: MembershipRole.VIEWER,
    });
    return entity;
  }

  /** The newest version of each definition (the newest active one unless includeInactive), by name. */
  async list(
    viewer: Viewer,
    projectId: string,
    filter: JobDefinitionFilter,
    page: { first: number; after?: string | null },
  ): Promise<Connection<JobDefinition>> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    const after = page.after ? decodeCursor(page.after, 1)[0] : undefined;
    const rows = await this.em
      .createQueryBuilder(JobDefinition, 'd')
      .select('*')
      .distinctOn(['d.name'])
      .where({
        project,
        ...(filter.includeInactive ? {} : { active: true }),
        ...(filter.text ? { name: { $ilike: likePattern(filter.text) } } : {}),
      })
      .andWhere(after === undefined ? {} : { name: { $gt: after } })
      .orderBy({ name: 'asc', version: 'desc' })
      .limit(page.first + 1)
      .getResultList();
    return toConnection(rows, page, (definition) => [definition.name]);
  }

  /** Every version of a definition, newest first. */
  async versions(viewer: Viewer, projectId: string, name: string): Promise<JobDefinition[]> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    return this.em.find(JobDefinition, { project, name }, { orderBy: { version: 'desc' } });
  }

  environment(definition: JobDefinition): Promise<EnvVar[]> {
    return this.deps.envVars.view(this.sealedEnv(definition), EnvVarSource.DEFINITION);
  }

  async reference(definition: JobDefinition): Promise<string> {
    return formatReference(await loaded(definition.project), definition.name, definition.version);
  }

  sealedEnv(definition: JobDefinition): SealedEnv {
    return { owner: 'job_definition', ownerId: definition.id, vars: definition.env };
  }

  private async save(
    viewer: Viewer,
    client: ClientInfo,
    version: {
      project: Project;
      name: string;
      version: number;
      spec: Spec;
      /** New inputs (which may keep values of `previous`), or a version's variables to carry over. */
      env: { inputs: EnvVarInput[]; previous?: SealedEnv } | { copyFrom: SealedEnv };
      previousRegistryAuthId?: string;
    },
  ): Promise<SavedDefinition> {
    const id = uuidv7();
    const env: StoredEnvVar[] =
      'copyFrom' in version.env
        ? await this.deps.envVars.copy(version.env.copyFrom, 'job_definition', id)
        : await this.deps.envVars.seal('job_definition', id, version.env.inputs, 'env', version.env.previous);
    const definition = this.em.create(JobDefinition, {
      id,
      project: version.project,
      name: version.name,
      version: version.version,
      ...version.spec,
      env,
      createdBy: viewer.userId,
    });
    const registryAuth = version.spec.registryAuth;
    if (registryAuth && registryAuth.id !== version.previousRegistryAuthId) {
      this.deps.credentials.recordUse(
        registryAuth,
        { id, name: version.name },
        { viewer, client, organizationId: version.project.organization.id },
      );
    }
    try {
      await this.em.flush();
    } catch (error) {
      await this.deps.envVars.destroy(env);
      if (error instanceof UniqueConstraintViolationException) {
        throw version.version === 1
          ? nameTaken(version.name)
          : UserError.conflict(`Another version of ${version.name} was saved at the same moment; try again.`);
      }
      throw error;
    }
    return { definition, warnings: version.spec.privileged ? [PRIVILEGED_WARNING] : [] };
  }

  private async checkSpec(project: Project, membership: Membership, input: SpecInput): Promise<Spec> {
    const docker = input.type === JobDefinitionType.DOCKER;
    if (docker && input.script != null) {
      throw UserError.badUserInput('A DOCKER definition runs an image, not a script: remove script.', {
        field: 'script',
      });
    }
    if (!docker) {
      for (const field of ['image', 'registryAuthId'] as const) {
        if (input[field] != null) {
          throw UserError.badUserInput(`A BASH definition runs a script, not an image: remove ${field}.`, {
            field,
          });
        }
      }
      if (input.privileged) {
        throw UserError.badUserInput('Only DOCKER definitions can run privileged.', { field: 'privileged' });
      }
    }
    if (input.privileged && !roleAtLeast(membership.role, MembershipRole.ADMIN)) {
      throw UserError.forbidden(
        'Only organization owners and admins can save a privileged definition: set privileged to false, or ask an admin.',
      );
    }
    const image = docker ? checkImage(input.image) : undefined;
    const script = docker ? undefined : checkScript(input.script);
    let registryAuth: RegistryAuth | undefined;
    if (docker && input.registryAuthId) {
      registryAuth = await this.deps.credentials.requireRegistryAuth(project.id, input.registryAuthId);
    }
    return {
      type: input.type,
      image,
      registryAuth,
      script,
      command: checkCommand(input.command, 'command'),
      parameters: checkParameters(input.parameters, 'parameters'),
      cpu: checkRange(input.cpu, CPU, 'cpu', 'vCPUs'),
      memoryMiB: checkInteger(input.memoryMiB, MEMORY_MIB, 'memoryMiB', 'MiB'),
      timeoutSeconds: checkInteger(input.timeoutSeconds, TIMEOUT_SECONDS, 'timeoutSeconds', 'seconds'),
      retryPolicy: checkRetryPolicy(input.retryPolicy),
      privileged: input.privileged,
    };
  }
}

function checkScript(script: string | null | undefined): string {
  if (!script?.trim()) {
    throw UserError.badUserInput('A BASH definition needs a script: give the bash code to run.', {
      field: 'script',
    });
  }
  if (script.length > MAX_SCRIPT_LENGTH) {
    throw UserError.badUserInput(`The script is too long: at most ${MAX_SCRIPT_LENGTH} characters.`, {
      field: 'script',
    });
  }
  return script;
}

function checkImage(image: string | null | undefined): string {
  if (!image?.trim()) {
    throw UserError.badUserInput('A DOCKER definition needs an image, e.g. alpine:3.20.', { field: 'image' });
  }
  const text = checkText(image, 'image', { max: MAX_IMAGE_LENGTH });
  if (/\s/.test(text)) {
    throw UserError.badUserInput(`"${text}" is not an image reference: no spaces, e.g. alpine:3.20.`, {
      field: 'image',
    });
  }
  return text;
}

function nameTaken(name: string): UserError {
  return UserError.conflict(
    `A job definition named ${name} already exists in this project: update it to write a new version.`,
    { field: 'name' },
  );
}
