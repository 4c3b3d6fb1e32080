import type { EntityManager } from '@mikro-orm/postgresql';
import type { CredentialUser, CredentialUsers } from '../credentials/credential-users.js';
import { ComputeEnvironment } from './compute-environment.entity.js';
import { JobDefinition } from './job-definition.entity.js';

/** What uses cloud and registry auths, answered from the workload tables. */
export class WorkloadCredentialUsers implements CredentialUsers {
  constructor(private readonly em: EntityManager) {}

  async computeEnvironmentsUsing(cloudAuthId: string): Promise<CredentialUser[]> {
    const environments = await this.em.find(
      ComputeEnvironment,
      { cloudAuth: cloudAuthId },
      { fields: ['id', 'name'], orderBy: { name: 'asc' } },
    );
    return environments.map(({ id, name }) => ({ id, name }));
  }

  /**
   * Definitions are versioned: one counts while any version that is not deactivated
   * pulls with the registry auth. Each definition appears once, as its newest such version.
   */
  async jobDefinitionsUsing(registryAuthId: string): Promise<CredentialUser[]> {
    const versions = await this.em.find(
      JobDefinition,
      { registryAuth: registryAuthId, active: true },
      { fields: ['id', 'name', 'version'], orderBy: { name: 'asc', version: 'desc' } },
    );
    const newest = new Map<string, CredentialUser>();
    for (const { id, name } of versions) if (!newest.has(name)) newest.set(name, { id, name });
    return [...newest.values()];
  }
}
