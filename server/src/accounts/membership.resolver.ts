import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import {
  AcceptInvitationInput,
  ChangeMemberRoleInput,
  CreateOrganizationInput,
  InvitationIdInput,
  InvitationPayload,
  InviteMemberInput,
  MemberPayload,
  OrganizationPayload,
  RemoveMemberInput,
  RemoveMemberPayload,
} from './accounts.types.js';
import type { Membership } from './membership.entity.js';

export function toMember(membership: Membership) {
  return { user: membership.user, role: membership.role, joinedAt: membership.createdAt };
}

// Membership changes are people's decisions, made from a browser session, never by API tokens.
@Resolver()
export class MembershipResolver {
  @Auth('SESSION')
  @Mutation(() => OrganizationPayload, {
    description: 'Creates an organization you own, with a default project.',
  })
  async createOrganization(
    @Arg('input') input: CreateOrganizationInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<OrganizationPayload> {
    return { organization: await services.memberships.createOrganization(viewer!, input.name, client) };
  }

  // VERIFIED: an account that has not proven its own address must not send mail to others.
  @Auth('SESSION', 'VERIFIED')
  @Mutation(() => InvitationPayload, {
    description: 'Emails an invitation (valid 7 days). Admins invite; only owners invite owners.',
  })
  async inviteMember(
    @Arg('input') input: InviteMemberInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<InvitationPayload> {
    await services.throttle.consume('inviteMember', client, viewer!.email);
    return { invitation: await services.memberships.invite(viewer!, input, client) };
  }

  @Auth('SESSION')
  @Mutation(() => InvitationPayload)
  async revokeInvitation(
    @Arg('input') input: InvitationIdInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<InvitationPayload> {
    return { invitation: await services.memberships.revokeInvitation(viewer!, input.invitationId, client) };
  }

  @Auth('SESSION')
  @Mutation(() => OrganizationPayload, { description: 'Joins the organization as the invited address.' })
  async acceptInvitation(
    @Arg('input') input: AcceptInvitationInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<OrganizationPayload> {
    const membership = await services.memberships.accept(viewer!, input.token, client);
    return { organization: membership.organization };
  }

  @Auth('SESSION')
  @Mutation(() => MemberPayload, { description: 'The last owner cannot be demoted.' })
  async changeMemberRole(
    @Arg('input') input: ChangeMemberRoleInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<MemberPayload> {
    return { member: toMember(await services.memberships.changeRole(viewer!, input, client)) };
  }

  @Auth('SESSION')
  @Mutation(() => RemoveMemberPayload, { description: 'Removes a member, or leaves; the last owner cannot.' })
  async removeMember(
    @Arg('input') input: RemoveMemberInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<RemoveMemberPayload> {
    await services.memberships.remove(viewer!, input, client);
    return { removedUserId: input.userId };
  }
}
