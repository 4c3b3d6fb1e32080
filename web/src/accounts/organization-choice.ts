/** The organization to show: the one chosen before if it is still there, else the personal one. */
export function chooseOrganization<T extends { id: string; personal: boolean }>(
  organizations: readonly T[],
  chosenId: string | null | undefined,
): T | undefined {
  return (
    organizations.find((organization) => organization.id === chosenId) ??
    organizations.find((organization) => organization.personal) ??
    organizations[0]
  );
}

/** Where the choice is kept, per person, so another account in the same browser starts afresh. */
export function organizationStorageKey(userId: string): string {
  return `daestro.organization.${userId}`;
}
