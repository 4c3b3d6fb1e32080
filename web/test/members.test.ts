import { describe, expect, it } from 'vitest';
import type { MembershipRole } from '../src/gql/graphql';
import {
  assignableRoles,
  canManageMember,
  roleChoicesFor,
  roleLabel,
  seatUsage,
} from '../src/accounts/members';

const ALL: MembershipRole[] = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'];

describe('role choices per viewer role', () => {
  it('lets owners give every role, admins up to admin, and others none', () => {
    expect(assignableRoles('OWNER')).toEqual(['OWNER', 'ADMIN', 'MEMBER', 'VIEWER']);
    expect(assignableRoles('ADMIN')).toEqual(['ADMIN', 'MEMBER', 'VIEWER']);
    expect(assignableRoles('MEMBER')).toEqual([]);
    expect(assignableRoles('VIEWER')).toEqual([]);
    expect(assignableRoles(undefined)).toEqual([]);
  });

  it('lets owners manage everyone and admins everyone but owners', () => {
    expect(ALL.map((role) => canManageMember('OWNER', role))).toEqual([true, true, true, true]);
    expect(ALL.map((role) => canManageMember('ADMIN', role))).toEqual([false, true, true, true]);
    expect(ALL.map((role) => canManageMember('MEMBER', role))).toEqual([false, false, false, false]);
    expect(ALL.map((role) => canManageMember('VIEWER', role))).toEqual([false, false, false, false]);
  });

  it('offers a role select only where the viewer may change the role, always including the current one', () => {
    for (const viewer of ALL) {
      for (const member of ALL) {
        const choices = roleChoicesFor(viewer, member);
        if (choices.length > 0) expect(choices).toContain(member);
      }
    }
    expect(roleChoicesFor('ADMIN', 'OWNER')).toEqual([]);
    expect(roleChoicesFor('ADMIN', 'MEMBER')).not.toContain('OWNER');
    expect(roleChoicesFor('OWNER', 'MEMBER')).toContain('OWNER');
    expect(roleChoicesFor('MEMBER', 'VIEWER')).toEqual([]);
  });

  it('puts roles in words', () => {
    expect(ALL.map(roleLabel)).toEqual(['Owner', 'Admin', 'Member', 'Viewer']);
  });
});

describe('seatUsage', () => {
  it('counts pending invitations against the plan as the server does', () => {
    expect(seatUsage(1, 0, 3)).toEqual({
      members: 1,
      pending: 0,
      limit: 3,
      full: false,
      text: '1 of 3 members',
    });
    expect(seatUsage(2, 1, 3).full).toBe(true);
    expect(seatUsage(3, 0, 3).full).toBe(true);
    expect(seatUsage(1, 0, 1).text).toBe('1 of 1 member');
  });
});
