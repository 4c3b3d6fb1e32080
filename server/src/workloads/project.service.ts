import type { EntityManager } from '@mikro-orm/postgresql';
import type { Organization } from '../accounts/organization.entity.js';
import { Project } from './project.entity.js';

export const DEFAULT_PROJECT_CODE = 'default';

export class ProjectService {
  constructor(private readonly em: EntityManager) {}

  /** The project every new organization starts with. */
  createDefault(organization: Organization): Project {
    return this.em.create(Project, { organization, code: DEFAULT_PROJECT_CODE, name: 'Default' });
  }

  listForOrganization(organizationId: string): Promise<Project[]> {
    return this.em.find(Project, { organization: organizationId }, { orderBy: { code: 'asc' } });
  }

  findById(projectId: string): Promise<Project | null> {
    return this.em.findOne(Project, { id: projectId }, { populate: ['organization'] });
  }

  findInOrganization(organizationId: string, projectId: string): Promise<Project | null> {
    return this.em.findOne(Project, { id: projectId, organization: organizationId });
  }
}
