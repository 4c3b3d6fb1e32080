// Who may do what to an organization's members. Mirrors the server's rules
// (server/src/accounts/membership.service.ts), which decide in the end: owners may grant any role;
// admins may grant up to ADMIN and manage members below OWNER; anyone may leave.
import type { MembershipRole } from '../gql/graphql';
import { isOrganizationAdmin } from './api-tokens';

export const ROLES: { value: MembershipRole; label: string; description: string }[] = [
  {
    value: 'OWNER',
    label: 'Owner',
    description: 'Everything, including owners and the organization itself.',
  },
  { value: 'ADMIN', label: 'Admin', description: 'Members, settings and credentials.' },
  { value: 'MEMBER', label: 'Member', description: 'Run and change workloads.' },
  { value: 'VIEWER', label: 'Viewer', description: 'Read only.' },
];

export function roleLabel(role: MembershipRole): string {
  return ROLES.find((choice) => choice.value === role)?.label ?? role;
}

/** The roles `viewerRole` may give: in an invitation, or to a member they may manage. */
export function assignableRoles(viewerRole: MembershipRole | undefined): MembershipRole[] {
  if (viewerRole === 'OWNER') return ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'];
  if (viewerRole === 'ADMIN') return ['ADMIN', 'MEMBER', 'VIEWER'];
  return [];
}

/** Whether `viewerRole` may change the role of, or remove, a member who has `memberRole`. */
export function canManageMember(viewerRole: MembershipRole | undefined, memberRole: MembershipRole): boolean {
  if (!isOrganizationAdmin(viewerRole)) return false;
  return memberRole !== 'OWNER' || viewerRole === 'OWNER';
}

/**
 * The choices of the role select in a member's row: empty when the viewer may not change it. The
 * member's current role is always among them (an admin sees ADMIN, MEMBER, VIEWER for a MEMBER).
 */
export function roleChoicesFor(
  viewerRole: MembershipRole | undefined,
  memberRole: MembershipRole,
): MembershipRole[] {
  return canManageMember(viewerRole, memberRole) ? assignableRoles(viewerRole) : [];
}

export interface SeatUsage {
  /** Members now. */
  members: number;
  /** Pending invitations, which hold a place too. */
  pending: number;
  limit: number;
  /** No room for another invitation. */
  full: boolean;
  /** "2 of 3 members" */
  text: string;
}

/** The plan's member limit against members plus pending invitations, as the server counts them. */
export function seatUsage(members: number, pending: number, limit: number): SeatUsage {
  return {
    members,
    pending,
    limit,
    full: members + pending >= limit,
    text: `${members} of ${limit} ${limit === 1 ? 'member' : 'members'}`,
  };
}
