import type { EntityManager } from '@mikro-orm/postgresql';
import type { Membership } from '../accounts/membership.entity.js';
import { MembershipRole, roleAtLeast } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import type { Viewer } from '../accounts/viewer.js';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import { ComputeEnvironment } from './compute-environment.entity.js';
import { JobDefinition } from './job-definition.entity.js';
import { JobQueue } from './job-queue.entity.js';
import { Project } from './project.entity.js';

/**
 * `project::name` or `project::name:version`, where project is a project code in
 * one of the caller's organizations (DESIGN.md §2).
 */
const REFERENCE = /^([A-Za-z0-9_-]{1,64})::([A-Za-z0-9-]{1,64})(?::([1-9][0-9]{0,8}))?$/;

export type ParsedReference = { id: string } | { projectCode: string; name: string; version?: number };

/** Reads an id or a reference; BAD_USER_INPUT naming `field` when it is neither. */
export function parseReference(
  text: string,
  field: string,
  options: { versioned: boolean },
): ParsedReference {
  if (isValidId(text)) return { id: text };
  const match = REFERENCE.exec(text.trim());
  if (!match || (match[3] && !options.versioned)) {
    const shape = options.versioned ? '`project::name` or `project::name:version`' : '`project::name`';
    throw UserError.badUserInput(`"${text}" is neither an id nor a reference like ${shape}.`, { field });
  }
  return { projectCode: match[1]!, name: match[2]!, ...(match[3] ? { version: Number(match[3]) } : {}) };
}

export function formatReference(project: Project, name: string, version?: number): string {
  return `${project.code}::${name}${version === undefined ? '' : `:${version}`}`;
}

/** A resource the caller may act on, with the project and membership that allow it. */
export interface Resolved<T> {
  entity: T;
  project: Project;
  membership: Membership;
}

export interface Lookup {
  /** The input field that held the id or reference, for error details. */
  field: string;
  minimum: MembershipRole;
  /** When a project code exists in several of the caller's organizations, prefer this one. */
  organizationId?: string;
  /** Access already granted to a project (say, for the other resource of a pair): a resource in it needs no new check. */
  granted?: { project: Project; membership: Membership };
}

type Kind = 'definition' | 'queue' | 'environment';

const WHAT: Record<Kind, string> = {
  definition: 'Job definition',
  queue: 'Job queue',
  environment: 'Compute environment',
};

/**
 * The one resolver of ids and references for job definitions, job queues and
 * compute environments. Every lookup is scoped to the caller: a resource in
 * another organization (or outside a project token's project) is NOT_FOUND.
 */
export class WorkloadReferences {
  constructor(
    private readonly em: EntityManager,
    private readonly organizations: OrganizationService,
  ) {}

  /** Without a version, a reference means the newest active version (or the newest, when all are inactive). */
  definition(viewer: Viewer, text: string, lookup: Lookup): Promise<Resolved<JobDefinition>> {
    return this.resolve(viewer, text, lookup, 'definition', async (project, name, version) => {
      if (version !== undefined) return this.em.findOne(JobDefinition, { project, name, version });
      return this.em.findOne(
        JobDefinition,
        { project, name },
        { orderBy: { active: 'desc', version: 'desc' } },
      );
    });
  }

  queue(viewer: Viewer, text: string, lookup: Lookup): Promise<Resolved<JobQueue>> {
    return this.resolve(viewer, text, lookup, 'queue', (project, name) =>
      this.em.findOne(JobQueue, { project, name }),
    );
  }

  computeEnvironment(viewer: Viewer, text: string, lookup: Lookup): Promise<Resolved<ComputeEnvironment>> {
    return this.resolve(viewer, text, lookup, 'environment', (project, name) =>
      this.em.findOne(ComputeEnvironment, { project, name }),
    );
  }

  /**
   * The caller's access to a project that owns a resource found by id: NOT_FOUND
   * names the resource (not its project) so nothing about other organizations leaks.
   */
  async access(
    viewer: Viewer,
    projectId: string,
    minimum: MembershipRole,
    notFound: { what: string; id: string },
  ): Promise<{ project: Project; membership: Membership }> {
    try {
      return await this.organizations.requireProject(viewer, projectId, minimum);
    } catch (error) {
      if (error instanceof UserError && error.code === 'NOT_FOUND')
        throw UserError.notFound(notFound.what, notFound.id);
      throw error;
    }
  }

  private async resolve<T extends { project: Project }>(
    viewer: Viewer,
    text: string,
    lookup: Lookup,
    kind: Kind,
    byName: (project: Project, name: string, version?: number) => Promise<T | null>,
  ): Promise<Resolved<T>> {
    const what = WHAT[kind];
    const parsed = parseReference(text, lookup.field, { versioned: kind === 'definition' });
    let entity: T | null;
    if ('id' in parsed) {
      const entityClass = { definition: JobDefinition, queue: JobQueue, environment: ComputeEnvironment }[
        kind
      ];
      // With its project and organization, which the access check reads next.
      entity = (await this.em.findOne(
        entityClass as typeof JobQueue,
        { id: parsed.id },
        {
          populate: ['project.organization'],
        },
      )) as T | null;
    } else {
      const project = await this.projectByCode(viewer, parsed.projectCode, lookup);
      entity = project && (await byName(project, parsed.name, parsed.version));
    }
    if (!entity) throw UserError.notFound(what, text);
    const { granted } = lookup;
    const { project, membership } =
      granted?.project.id === entity.project.id && roleAtLeast(granted.membership.role, lookup.minimum)
        ? granted
        : await this.access(viewer, entity.project.id, lookup.minimum, { what, id: text });
    return { entity, project, membership };
  }

  private async projectByCode(viewer: Viewer, code: string, lookup: Lookup): Promise<Project | null> {
    const memberships = await this.organizations.listMemberships(viewer);
    const organizationIds = memberships.map((membership) => membership.organization.id);
    let projects = await this.em.find(Project, { code, organization: { $in: organizationIds } });
    const tokenProject = viewer.token?.projectId;
    if (tokenProject) projects = projects.filter((project) => project.id === tokenProject);
    if (projects.length > 1 && lookup.organizationId) {
      projects = projects.filter((project) => project.organization.id === lookup.organizationId);
    }
    if (projects.length > 1) {
      throw UserError.badUserInput(
        `The project code "${code}" exists in several of your organizations; use the id instead of the reference.`,
        { field: lookup.field },
      );
    }
    return projects[0] ?? null;
  }
}
