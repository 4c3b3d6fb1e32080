import type { EntityManager } from '@mikro-orm/postgresql';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import type { AuditService } from '../privacy/audit.service.js';
import type { ProjectService } from '../workloads/project.service.js';
import { ApiToken, ApiTokenScope } from './api-token.entity.js';
import { Membership, MembershipRole, roleAtLeast } from './membership.entity.js';
import type { OrganizationService } from './organization.service.js';
import { hashSecretToken, newSecretToken, shownPrefix } from './secret-token.js';
import type { ClientInfo } from './session.service.js';
import type { Viewer } from './viewer.js';

export const API_TOKEN_PREFIX = 'dae_';
const LAST_USED_GRANULARITY_MS = 60_000;

export interface NewApiToken {
  name: string;
  organizationId: string;
  projectId?: string;
  scopes: ApiTokenScope[];
  expiresAt?: Date;
}

export class ApiTokenService {
  constructor(
    private readonly em: EntityManager,
    private readonly organizations: OrganizationService,
    private readonly projects: ProjectService,
    private readonly audit: AuditService,
    private readonly pubSub: DaestroPubSub,
  ) {}

  /** Creates a token; its secret is returned this once and never stored. */
  async create(
    viewer: Viewer,
    input: NewApiToken,
    client: ClientInfo,
  ): Promise<{ token: ApiToken; secret: string }> {
    const membership = await this.organizations.requireMembership(
      viewer,
      input.organizationId,
      MembershipRole.MEMBER,
    );
    const project = input.projectId
      ? await this.projects.findInOrganization(input.organizationId, input.projectId)
      : undefined;
    if (input.projectId && (!isValidId(input.projectId) || !project)) {
      throw UserError.notFound('Project', input.projectId);
    }
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) throw UserError.badUserInput('Choose at least one scope.', { field: 'scopes' });
    if (scopes.includes(ApiTokenScope.ADMIN) && !roleAtLeast(membership.role, MembershipRole.ADMIN)) {
      throw UserError.forbidden('Only organization owners and admins can create ADMIN tokens.');
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw UserError.badUserInput('The expiry must be in the future.', { field: 'expiresAt' });
    }

    const { secret, hash } = newSecretToken(API_TOKEN_PREFIX);
    const token = this.em.create(ApiToken, {
      name: input.name.trim(),
      prefix: shownPrefix(secret),
      tokenHash: hash,
      scopes,
      organization: membership.organization,
      project: project ?? undefined,
      createdBy: viewer.userId,
      expiresAt: input.expiresAt,
    });
    this.audit.record({
      action: 'api_token.created',
      actorId: viewer.userId,
      organizationId: input.organizationId,
      client,
      details: { tokenId: token.id, name: token.name, scopes },
    });
    await this.em.flush();
    return { token, secret };
  }

  /** Tokens of an organization: admins see all of them, others their own. */
  async list(viewer: Viewer, organizationId: string): Promise<ApiToken[]> {
    const membership = await this.organizations.requireMembership(viewer, organizationId);
    const seesAll = roleAtLeast(membership.role, MembershipRole.ADMIN);
    return this.em.find(
      ApiToken,
      { organization: organizationId, ...(seesAll ? {} : { createdBy: viewer.userId }) },
      { orderBy: { createdAt: 'desc' }, populate: ['project'] },
    );
  }

  async revoke(viewer: Viewer, tokenId: string, client: ClientInfo): Promise<ApiToken> {
    const token = isValidId(tokenId) ? await this.em.findOne(ApiToken, { id: tokenId }) : null;
    if (!token) throw UserError.notFound('API token', tokenId);
    const membership = await this.organizations
      .requireMembership(viewer, token.organization.id)
      .catch(() => null);
    const mayRevoke =
      membership &&
      (token.createdBy.id === viewer.userId || roleAtLeast(membership.role, MembershipRole.ADMIN));
    if (!mayRevoke) throw UserError.notFound('API token', tokenId);
    if (!token.revokedAt) {
      token.revokedAt = new Date();
      this.audit.record({
        action: 'api_token.revoked',
        actorId: viewer.userId,
        organizationId: token.organization.id,
        client,
        details: { tokenId: token.id, name: token.name },
      });
      await this.em.flush();
      this.pubSub.publish('api_token.revoked', { apiTokenId: token.id });
    }
    return token;
  }

  /** The viewer behind a `dae_…` secret, or undefined when unknown, revoked, expired or orphaned. */
  async authenticate(secret: string): Promise<Viewer | undefined> {
    if (!secret.startsWith(API_TOKEN_PREFIX)) return undefined;
    const token = await this.em.findOne(
      ApiToken,
      { tokenHash: hashSecretToken(secret), revokedAt: null },
      { populate: ['createdBy'] },
    );
    if (!token || (token.expiresAt && token.expiresAt.getTime() <= Date.now())) return undefined;
    // A token acts as its creator: once they leave the organization, it stops working.
    const stillMember = await this.em.count(Membership, {
      organization: token.organization,
      user: token.createdBy,
    });
    if (stillMember === 0) return undefined;
    if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
      await this.em.nativeUpdate(ApiToken, { id: token.id }, { lastUsedAt: new Date() });
    }
    const user = token.createdBy;
    return {
      userId: user.id,
      email: user.email,
      emailVerified: !!user.emailVerifiedAt,
      token: {
        id: token.id,
        organizationId: token.organization.id,
        projectId: token.project?.id,
        scopes: token.scopes,
      },
    };
  }
}
