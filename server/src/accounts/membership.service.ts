import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { LimitsService } from '../billing/limits.service.js';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import type { AuditService } from '../privacy/audit.service.js';
import type { ProjectService } from '../workloads/project.service.js';
import { normalizeEmail } from './account.service.js';
import { Invitation } from './invitation.entity.js';
import { Membership, MembershipRole, roleAtLeast } from './membership.entity.js';
import { Organization } from './organization.entity.js';
import type { OrganizationService } from './organization.service.js';
import { hashSecretToken, newSecretToken } from './secret-token.js';
import type { ClientInfo } from './session.service.js';
import { User } from './user.entity.js';
import type { Viewer } from './viewer.js';

/** What organizations send by email; the mail domain implements it. */
export interface InvitationMailer {
  sendInvitationEmail(mail: {
    to: string;
    inviterName: string;
    organizationName: string;
    link: string;
    expiresInHours: number;
  }): Promise<unknown>;
}

const INVITATION_HOURS = 7 * 24;
const INVALID_INVITATION = 'This invitation is invalid, already used, revoked or expired. Ask for a new one.';

/** Organizations people create, their members, roles and invitations. */
export class MembershipService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: {
      organizations: OrganizationService;
      projects: ProjectService;
      audit: AuditService;
      limits: LimitsService;
      mailer: InvitationMailer;
      publicUrl: string;
    },
  ) {}

  async createOrganization(viewer: Viewer, name: string, client: ClientInfo): Promise<Organization> {
    const organization = this.em.create(Organization, { name: name.trim() });
    this.em.create(Membership, { organization, user: viewer.userId, role: MembershipRole.OWNER });
    this.deps.projects.createDefault(organization);
    this.deps.audit.record({
      action: 'organization.created',
      actorId: viewer.userId,
      organizationId: organization.id,
      client,
    });
    await this.em.flush();
    return organization;
  }

  async listMembers(viewer: Viewer, organizationId: string): Promise<Membership[]> {
    await this.deps.organizations.requireMembership(viewer, organizationId);
    return this.em.find(
      Membership,
      { organization: organizationId },
      { populate: ['user'], orderBy: { createdAt: 'asc' } },
    );
  }

  async listPendingInvitations(viewer: Viewer, organizationId: string): Promise<Invitation[]> {
    await this.deps.organizations.requireMembership(viewer, organizationId, MembershipRole.ADMIN);
    return this.em.find(Invitation, this.pendingFilter(organizationId), {
      populate: ['invitedBy'],
      orderBy: { createdAt: 'desc' },
    });
  }

  /** Invites an email address; admins invite, only owners may invite owners; the plan caps members. */
  async invite(
    viewer: Viewer,
    input: { organizationId: string; email: string; role: MembershipRole },
    client: ClientInfo,
  ): Promise<Invitation> {
    const membership = await this.deps.organizations.requireMembership(
      viewer,
      input.organizationId,
      MembershipRole.ADMIN,
    );
    this.assertMayGrant(membership, input.role);
    const organization = membership.organization;
    const email = normalizeEmail(input.email);
    const alreadyMember = await this.em.count(Membership, { organization, user: { email } });
    if (alreadyMember > 0) throw UserError.conflict(`${email} is already a member of ${organization.name}.`);
    const seats =
      (await this.em.count(Membership, { organization })) +
      (await this.em.count(Invitation, this.pendingFilter(organization.id)));
    this.deps.limits.assertRoomForOneMore(organization.plan, 'members', seats);

    // A new invitation replaces any pending one for the same address.
    await this.em.nativeUpdate(
      Invitation,
      { ...this.pendingFilter(organization.id), email },
      { revokedAt: new Date() },
    );
    const { secret, hash } = newSecretToken();
    const invitation = this.em.create(Invitation, {
      organization,
      email,
      role: input.role,
      tokenHash: hash,
      invitedBy: viewer.userId,
      expiresAt: new Date(Date.now() + INVITATION_HOURS * 3_600_000),
    });
    this.deps.audit.record({
      action: 'member.invited',
      actorId: viewer.userId,
      organizationId: organization.id,
      client,
      details: { email, role: input.role },
    });
    await this.em.flush();
    const inviter = await this.em.findOneOrFail(User, { id: viewer.userId });
    await this.deps.mailer.sendInvitationEmail({
      to: email,
      inviterName: inviter.name,
      organizationName: organization.name,
      link: `${this.deps.publicUrl}/invitations/accept?token=${encodeURIComponent(secret)}`,
      expiresInHours: INVITATION_HOURS,
    });
    return invitation;
  }

  async revokeInvitation(viewer: Viewer, invitationId: string, client: ClientInfo): Promise<Invitation> {
    const invitation = isValidId(invitationId)
      ? await this.em.findOne(Invitation, { id: invitationId, acceptedAt: null, revokedAt: null })
      : null;
    const membership =
      invitation &&
      (await this.deps.organizations
        .requireMembership(viewer, invitation.organization.id, MembershipRole.ADMIN)
        .catch(() => null));
    if (!invitation || !membership) throw UserError.notFound('Invitation', invitationId);
    invitation.revokedAt = new Date();
    this.deps.audit.record({
      action: 'member.invitation_revoked',
      actorId: viewer.userId,
      organizationId: invitation.organization.id,
      client,
      details: { email: invitation.email },
    });
    await this.em.flush();
    return invitation;
  }

  /** Joins the organization; only the account whose email was invited may accept. */
  async accept(viewer: Viewer, token: string, client: ClientInfo): Promise<Membership> {
    const invitation = await this.em.findOne(
      Invitation,
      {
        tokenHash: hashSecretToken(token),
        acceptedAt: null,
        revokedAt: null,
        expiresAt: { $gt: new Date() },
      },
      { populate: ['organization'] },
    );
    if (!invitation) throw UserError.badUserInput(INVALID_INVITATION, { field: 'token' });
    if (invitation.email !== viewer.email) {
      throw UserError.forbidden(
        `This invitation is for ${invitation.email}; you are signed in as ${viewer.email}. ` +
          'Sign in with the invited address to accept it.',
      );
    }
    const claimed = await this.em.nativeUpdate(
      Invitation,
      { id: invitation.id, acceptedAt: null },
      { acceptedAt: new Date() },
    );
    if (claimed !== 1) throw UserError.badUserInput(INVALID_INVITATION, { field: 'token' });
    const membership = this.em.create(Membership, {
      organization: invitation.organization,
      user: viewer.userId,
      role: invitation.role,
    });
    this.deps.audit.record({
      action: 'member.joined',
      actorId: viewer.userId,
      organizationId: invitation.organization.id,
      client,
      details: { role: invitation.role },
    });
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw UserError.conflict(`You are already a member of ${invitation.organization.name}.`);
      }
      throw error;
    }
    return membership;
  }

  async changeRole(
    viewer: Viewer,
    input: { organizationId: string; userId: string; role: MembershipRole },
    client: ClientInfo,
  ): Promise<Membership> {
    const actor = await this.deps.organizations.requireMembership(
      viewer,
      input.organizationId,
      MembershipRole.ADMIN,
    );
    const target = await this.findMember(input.organizationId, input.userId);
    this.assertMayGrant(actor, input.role);
    this.assertMayGrant(actor, target.role);
    if (target.role === MembershipRole.OWNER && input.role !== MembershipRole.OWNER) {
      await this.assertAnotherOwner(input.organizationId, 'demote');
    }
    const previous = target.role;
    target.role = input.role;
    this.deps.audit.record({
      action: 'member.role_changed',
      actorId: viewer.userId,
      organizationId: input.organizationId,
      client,
      details: { userId: input.userId, from: previous, to: input.role },
    });
    await this.em.flush();
    return target;
  }

  /** Removes a member; anyone may leave, admins may remove others; the last owner stays. */
  async remove(
    viewer: Viewer,
    input: { organizationId: string; userId: string },
    client: ClientInfo,
  ): Promise<void> {
    const leaving = input.userId === viewer.userId;
    const actor = await this.deps.organizations.requireMembership(
      viewer,
      input.organizationId,
      leaving ? MembershipRole.VIEWER : MembershipRole.ADMIN,
    );
    const target = leaving ? actor : await this.findMember(input.organizationId, input.userId);
    if (!leaving) this.assertMayGrant(actor, target.role);
    if (target.role === MembershipRole.OWNER) await this.assertAnotherOwner(input.organizationId, 'remove');
    this.deps.audit.record({
      action: leaving ? 'member.left' : 'member.removed',
      actorId: viewer.userId,
      organizationId: input.organizationId,
      client,
      details: { userId: input.userId, role: target.role },
    });
    this.em.remove(target);
    await this.em.flush();
  }

  private pendingFilter(organizationId: string) {
    return {
      organization: organizationId,
      acceptedAt: null,
      revokedAt: null,
      expiresAt: { $gt: new Date() },
    };
  }

  /** Owners may grant anything; admins may grant up to ADMIN and manage members below OWNER. */
  private assertMayGrant(actor: Membership, role: MembershipRole): void {
    if (role === MembershipRole.OWNER && actor.role !== MembershipRole.OWNER) {
      throw UserError.forbidden('Only owners can make, change or remove owners.');
    }
    if (!roleAtLeast(actor.role, MembershipRole.ADMIN)) {
      throw UserError.forbidden('Only owners and admins can manage members.');
    }
  }

  private async findMember(organizationId: string, userId: string): Promise<Membership> {
    const member = isValidId(userId)
      ? await this.em.findOne(
          Membership,
          { organization: organizationId, user: userId },
          { populate: ['user'] },
        )
      : null;
    if (!member) throw UserError.notFound('Member', userId);
    return member;
  }

  private async assertAnotherOwner(organizationId: string, verb: 'demote' | 'remove'): Promise<void> {
    const owners = await this.em.count(Membership, {
      organization: organizationId,
      role: MembershipRole.OWNER,
    });
    if (owners <= 1) {
      throw UserError.conflict(
        `An organization needs an owner: make someone else an owner before you ${verb} the last one.`,
      );
    }
  }
}
