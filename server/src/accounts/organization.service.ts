import type { EntityManager } from '@mikro-orm/postgresql';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import type { Project } from '../workloads/project.entity.js';
import type { ProjectService } from '../workloads/project.service.js';
import { Membership, MembershipRole, roleAtLeast } from './membership.entity.js';
import { Organization } from './organization.entity.js';
import type { User } from './user.entity.js';
import type { Viewer } from './viewer.js';

export class OrganizationService {
  constructor(
    private readonly em: EntityManager,
    private readonly projects: ProjectService,
  ) {}

  /** The organization (owned by the user, with a default project) that every account starts with. */
  createPersonal(user: User): Organization {
    const organization = this.em.create(Organization, {
      name: `${user.name}'s organization`,
      personal: true,
    });
    this.em.create(Membership, { organization, user, role: MembershipRole.OWNER });
    this.projects.createDefault(organization);
    return organization;
  }

  /** The caller's memberships; an API token sees only its own organization. */
  async listMemberships(viewer: Viewer): Promise<Membership[]> {
    return this.em.find(
      Membership,
      { user: viewer.userId, ...(viewer.token ? { organization: viewer.token.organizationId } : {}) },
      { populate: ['organization'], orderBy: { organization: { personal: 'desc', name: 'asc' } } },
    );
  }

  /**
   * The caller's membership of an organization with at least `minimum` role.
   * An organization the caller does not belong to is NOT_FOUND, never FORBIDDEN,
   * so ids cannot be probed across organizations.
   */
  async requireMembership(
    viewer: Viewer,
    organizationId: string,
    minimum: MembershipRole = MembershipRole.VIEWER,
  ): Promise<Membership> {
    const outOfTokenScope = viewer.token && viewer.token.organizationId !== organizationId;
    const membership =
      isValidId(organizationId) && !outOfTokenScope
        ? await this.em.findOne(
            Membership,
            { organization: organizationId, user: viewer.userId },
            { populate: ['organization'] },
          )
        : null;
    if (!membership) throw UserError.notFound('Organization', organizationId);
    if (!roleAtLeast(membership.role, minimum)) {
      throw UserError.forbidden(
        `This needs the ${minimum} role or higher in ${membership.organization.name}; you are ${membership.role}.`,
      );
    }
    return membership;
  }

  /**
   * A project the caller may act in with at least `minimum` role, and the membership
   * that grants it. Every workload and credential operation starts here, so scoping
   * lives in one place: a project of another organization, or outside a
   * project-scoped API token, is NOT_FOUND.
   */
  async requireProject(
    viewer: Viewer,
    projectId: string,
    minimum: MembershipRole = MembershipRole.VIEWER,
  ): Promise<{ project: Project; membership: Membership }> {
    const outOfTokenScope = viewer.token?.projectId !== undefined && viewer.token.projectId !== projectId;
    const project = isValidId(projectId) && !outOfTokenScope ? await this.projects.findById(projectId) : null;
    if (!project) throw UserError.notFound('Project', projectId);
    try {
      const membership = await this.requireMembership(viewer, project.organization.id, minimum);
      return { project, membership };
    } catch (error) {
      if (error instanceof UserError && error.code === 'NOT_FOUND')
        throw UserError.notFound('Project', projectId);
      throw error;
    }
  }
}
