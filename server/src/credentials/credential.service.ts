import { ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { MembershipRole } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import type { ClientInfo } from '../accounts/session.service.js';
import { User } from '../accounts/user.entity.js';
import type { Viewer } from '../accounts/viewer.js';
import type { LimitsService } from '../billing/limits.service.js';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import type { AuditService } from '../privacy/audit.service.js';
import { maskSecret } from '../secrets/redaction.js';
import type { SealedSecret, SecretSlot } from '../secrets/sealed-secret.js';
import type { SecretService } from '../secrets/secret.service.js';
import type { Project } from '../workloads/project.entity.js';
import { parseResourceName } from '../workloads/resource-name.js';
import { CloudAuth, CloudAuthVerification } from './cloud-auth.entity.js';
import {
  deserializeSecretFields,
  parseCloudCredentials,
  primarySecret,
  serializeSecretFields,
  type CloudCredentials,
  type CloudCredentialsInput,
} from './cloud-credentials.js';
import type { CloudApiConfig } from '../config.js';
import { checkCloudCredentials } from './cloud-providers.js';
import type { CredentialUser, CredentialUsers } from './credential-users.js';
import { CredentialUserKind, type CredentialUse } from './credentials.types.js';
import { RegistryAuth } from './registry-auth.entity.js';
import { parseRegistryLogin, type RegistryLogin } from './registry-credentials.js';

export interface CredentialServiceDeps {
  organizations: OrganizationService;
  limits: LimitsService;
  audit: AuditService;
  secrets: SecretService;
  /** Implemented by workloads: what uses a credential. */
  users: CredentialUsers;
  cloudApis: CloudApiConfig;
}

export type Credential = CloudAuth | RegistryAuth;

/** How each kind of credential is named, counted, stored and used. */
const KINDS = {
  cloud: {
    entity: CloudAuth,
    label: 'Cloud auth',
    table: 'cloud_auth',
    field: 'credential',
    limit: 'cloudAuths',
    audit: { created: 'cloud_auth.created', deleted: 'cloud_auth.deleted', used: 'cloud_auth.used' },
    userKind: CredentialUserKind.COMPUTE_ENVIRONMENT,
    userLabel: ['compute environment', 'compute environments'],
  },
  registry: {
    entity: RegistryAuth,
    label: 'Registry auth',
    table: 'registry_auth',
    field: 'password',
    limit: 'registryAuths',
    audit: { created: 'registry_auth.created', deleted: 'registry_auth.deleted', used: 'registry_auth.used' },
    userKind: CredentialUserKind.JOB_DEFINITION,
    userLabel: ['job definition', 'job definitions'],
  },
} as const;

type Kind = (typeof KINDS)[keyof typeof KINDS];

function kindOf(credential: Credential): Kind {
  return credential instanceof CloudAuth ? KINDS.cloud : KINDS.registry;
}

function slotOf(kind: Kind, id: string): SecretSlot {
  return { owner: kind.table, ownerId: id, field: kind.field };
}

/**
 * Cloud auths and registry auths of a project: write-only secrets (sealed at rest,
 * never returned), immutable, counted against the organization's plan, and kept
 * while anything uses them.
 */
export class CredentialService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: CredentialServiceDeps,
  ) {}

  /**
   * Checks the credentials with the provider, then stores them sealed. Credentials
   * the provider refuses are not stored (BAD_USER_INPUT); when the provider cannot be
   * asked they are stored as UNREACHABLE, with the reason in `verificationMessage`.
   */
  async createCloudAuth(
    viewer: Viewer,
    input: CloudCredentialsInput & { projectId: string; name: string },
    client: ClientInfo,
  ): Promise<CloudAuth> {
    const name = parseResourceName(input.name);
    const credentials = parseCloudCredentials(input);
    const project = await this.prepareCreate(viewer, KINDS.cloud, input.projectId, name);
    // Only now, for a caller allowed to create here, does the server call out to the provider.
    const check = await checkCloudCredentials(credentials, this.deps.cloudApis);
    if (check.verification === CloudAuthVerification.REJECTED) {
      throw UserError.badUserInput(check.message, check.field ? { field: check.field } : undefined);
    }

    const id = uuidv7();
    const credential = await this.deps.secrets.seal(
      slotOf(KINDS.cloud, id),
      serializeSecretFields(credentials),
    );
    // AWS seals a JSON pair; the masked view shows the end of the secret access key, not of the JSON.
    credential.masked = maskSecret(primarySecret(credentials));
    const cloudAuth = this.em.create(CloudAuth, {
      id,
      project,
      name,
      provider: credentials.provider,
      roleArn: 'roleArn' in credentials ? credentials.roleArn : undefined,
      credential,
      verification: check.verification,
      verificationMessage: check.message,
      checkedAt: new Date(),
      createdBy: viewer.userId,
    });
    await this.saveCreated(viewer, KINDS.cloud, cloudAuth, client, {
      provider: cloudAuth.provider,
      verification: cloudAuth.verification,
    });
    return cloudAuth;
  }

  async createRegistryAuth(
    viewer: Viewer,
    input: {
      projectId: string;
      name: string;
      registryUrl?: string | null;
      username: string;
      password: string;
    },
    client: ClientInfo,
  ): Promise<RegistryAuth> {
    const name = parseResourceName(input.name);
    const login = parseRegistryLogin(input);
    const project = await this.prepareCreate(viewer, KINDS.registry, input.projectId, name);
    const id = uuidv7();
    const registryAuth = this.em.create(RegistryAuth, {
      id,
      project,
      name,
      registryUrl: login.registryUrl,
      username: login.username,
      password: await this.deps.secrets.seal(slotOf(KINDS.registry, id), login.password),
      createdBy: viewer.userId,
    });
    await this.saveCreated(viewer, KINDS.registry, registryAuth, client, {
      registryUrl: registryAuth.registryUrl,
      username: registryAuth.username,
    });
    return registryAuth;
  }

  listCloudAuths(viewer: Viewer, projectId: string): Promise<CloudAuth[]> {
    return this.list(viewer, KINDS.cloud, projectId) as Promise<CloudAuth[]>;
  }

  listRegistryAuths(viewer: Viewer, projectId: string): Promise<RegistryAuth[]> {
    return this.list(viewer, KINDS.registry, projectId) as Promise<RegistryAuth[]>;
  }

  deleteCloudAuth(viewer: Viewer, cloudAuthId: string, client: ClientInfo): Promise<void> {
    return this.delete(viewer, KINDS.cloud, cloudAuthId, client);
  }

  deleteRegistryAuth(viewer: Viewer, registryAuthId: string, client: ClientInfo): Promise<void> {
    return this.delete(viewer, KINDS.registry, registryAuthId, client);
  }

  /** What uses the credential: compute environments for a cloud auth, job definitions for a registry auth. */
  async usedBy(credential: Credential): Promise<CredentialUse[]> {
    const kind = kindOf(credential);
    const users =
      kind === KINDS.cloud
        ? await this.deps.users.computeEnvironmentsUsing(credential.id)
        : await this.deps.users.jobDefinitionsUsing(credential.id);
    return users.map((user) => ({ kind: kind.userKind, ...user }));
  }

  /** Who created it; null once their account is gone. */
  createdBy(credential: Credential): Promise<User | null> {
    // Lists load their creators; then this is answered from the identity map, without a query.
    return credential.createdBy
      ? this.em.findOne(User, { id: credential.createdBy.id })
      : Promise.resolve(null);
  }

  // For workloads: a compute environment or job definition picks a credential of its own project.

  /** The project's cloud auth with this id; NOT_FOUND for any other. */
  requireCloudAuth(projectId: string, cloudAuthId: string): Promise<CloudAuth> {
    return this.requireInProject(KINDS.cloud, projectId, cloudAuthId) as Promise<CloudAuth>;
  }

  /** The project's registry auth with this id; NOT_FOUND for any other. */
  requireRegistryAuth(projectId: string, registryAuthId: string): Promise<RegistryAuth> {
    return this.requireInProject(KINDS.registry, projectId, registryAuthId) as Promise<RegistryAuth>;
  }

  /** The plaintext credentials, for a provider driver starting or stopping VMs. */
  async openCloudCredentials(cloudAuth: CloudAuth): Promise<CloudCredentials> {
    const text = await this.deps.secrets.open(slotOf(KINDS.cloud, cloudAuth.id), cloudAuth.credential);
    return deserializeSecretFields(cloudAuth.provider, text, cloudAuth.roleArn);
  }

  /** The plaintext login, for an agent pulling an image. */
  async openRegistryLogin(registryAuth: RegistryAuth): Promise<RegistryLogin> {
    return {
      registryUrl: registryAuth.registryUrl,
      username: registryAuth.username,
      password: await this.deps.secrets.open(slotOf(KINDS.registry, registryAuth.id), registryAuth.password),
    };
  }

  /**
   * Audits that a compute environment or job definition now uses the credential
   * (added to the caller's unit of work, written with its flush).
   */
  recordUse(
    credential: Credential,
    user: CredentialUser,
    actor: { viewer: Viewer; client: ClientInfo; organizationId: string },
  ): void {
    const kind = kindOf(credential);
    this.deps.audit.record({
      action: kind.audit.used,
      actorId: actor.viewer.userId,
      organizationId: actor.organizationId,
      client: actor.client,
      details: { ...this.describe(credential), usedBy: { kind: kind.userKind, ...user } },
    });
  }

  /** Project access (MEMBER+), the plan's room and a free name, before anything is sealed. */
  private async prepareCreate(viewer: Viewer, kind: Kind, projectId: string, name: string): Promise<Project> {
    const { project } = await this.deps.organizations.requireProject(
      viewer,
      projectId,
      MembershipRole.MEMBER,
    );
    const inOrganization = await this.em.count(kind.entity, {
      project: { organization: project.organization },
    });
    this.deps.limits.assertRoomForOneMore(project.organization.plan, kind.limit, inOrganization);
    if ((await this.em.count(kind.entity, { project, name })) > 0) throw this.nameTaken(kind, name);
    return project;
  }

  private async saveCreated(
    viewer: Viewer,
    kind: Kind,
    credential: Credential,
    client: ClientInfo,
    details: Record<string, unknown>,
  ): Promise<void> {
    this.deps.audit.record({
      action: kind.audit.created,
      actorId: viewer.userId,
      organizationId: credential.project.organization.id,
      client,
      details: { ...this.describe(credential), ...details },
    });
    try {
      await this.em.flush();
    } catch (error) {
      // The data key was stored by seal(); shred it rather than leave it unused.
      await this.deps.secrets.destroy(sealedOf(credential));
      // Created at the same moment under the same name.
      if (error instanceof UniqueConstraintViolationException) throw this.nameTaken(kind, credential.name);
      throw error;
    }
  }

  private async list(viewer: Viewer, kind: Kind, projectId: string): Promise<Credential[]> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    return this.em.find(kind.entity, { project }, { orderBy: { name: 'asc' }, populate: ['createdBy'] });
  }

  /**
   * Refused (CONFLICT, naming them) while anything uses it. The row goes first, so a
   * compute environment or definition that grabbed it meanwhile fails the delete on
   * its foreign key; then the data key is destroyed (crypto-shredding the secret).
   */
  private async delete(viewer: Viewer, kind: Kind, id: string, client: ClientInfo): Promise<void> {
    const credential = await this.findForViewer(viewer, kind, id, MembershipRole.MEMBER);
    const users = await this.usedBy(credential);
    if (users.length > 0) throw this.inUse(kind, credential, users);

    this.em.remove(credential);
    this.deps.audit.record({
      action: kind.audit.deleted,
      actorId: viewer.userId,
      organizationId: credential.project.organization.id,
      client,
      details: this.describe(credential),
    });
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof ForeignKeyConstraintViolationException) {
        throw this.inUse(kind, credential, await this.usedBy(credential));
      }
      throw error;
    }
    await this.deps.secrets.destroy(sealedOf(credential));
  }

  /** The credential, when the viewer may act on its project with `minimum` role; else NOT_FOUND. */
  private async findForViewer(
    viewer: Viewer,
    kind: Kind,
    id: string,
    minimum: MembershipRole,
  ): Promise<Credential> {
    const credential = isValidId(id) ? await this.em.findOne(kind.entity, { id }) : null;
    if (!credential) throw UserError.notFound(kind.label, id);
    try {
      await this.deps.organizations.requireProject(viewer, credential.project.id, minimum);
    } catch (error) {
      if (error instanceof UserError && error.code === 'NOT_FOUND') throw UserError.notFound(kind.label, id);
      throw error;
    }
    return credential;
  }

  private async requireInProject(kind: Kind, projectId: string, id: string): Promise<Credential> {
    const credential =
      isValidId(id) && isValidId(projectId)
        ? await this.em.findOne(kind.entity, { id, project: projectId })
        : null;
    if (!credential) throw UserError.notFound(kind.label, id);
    return credential;
  }

  /** What the audit log says about a credential: never its secret. */
  private describe(credential: Credential): Record<string, unknown> {
    return { credentialId: credential.id, name: credential.name, projectId: credential.project.id };
  }

  private nameTaken(kind: Kind, name: string): UserError {
    return UserError.conflict(
      `This project already has a ${kind.label.toLowerCase()} named ${name}: pick another name, or delete that one first.`,
      { field: 'name' },
    );
  }

  private inUse(kind: Kind, credential: Credential, users: CredentialUse[]): UserError {
    if (users.length === 0) {
      // Only the foreign key knows (e.g. an old version no longer counted as a user).
      return UserError.conflict(
        `${kind.label} ${credential.name} is still referenced by ${kind.userLabel[1]}; remove those references first.`,
      );
    }
    const [one, many] = kind.userLabel;
    const names = users.map((user) => user.name).join(', ');
    return UserError.conflict(
      `${kind.label} ${credential.name} is used by ${users.length === 1 ? one : many} ${names}. ` +
        `Switch ${users.length === 1 ? 'it' : 'them'} to other credentials or delete ${users.length === 1 ? 'it' : 'them'} first.`,
      { usedBy: users },
    );
  }
}

/** The sealed secret a credential holds. */
export function sealedOf(credential: Credential): SealedSecret {
  return credential instanceof CloudAuth ? credential.credential : credential.password;
}
