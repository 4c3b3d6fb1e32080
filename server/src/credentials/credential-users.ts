/**
 * What uses a credential. Workloads own compute environments and job definitions, so
 * they implement this port (server/src/workloads/credential-users.ts); credentials only
 * ask, to refuse deleting what is in use and to show `usedBy`.
 */
export interface CredentialUser {
  id: string;
  name: string;
}

export interface CredentialUsers {
  /** Compute environments whose cloud auth this is. */
  computeEnvironmentsUsing(cloudAuthId: string): Promise<CredentialUser[]>;
  /** Job definitions with at least one active version that pulls with this registry auth. */
  jobDefinitionsUsing(registryAuthId: string): Promise<CredentialUser[]>;
}
