import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { Project } from '../workloads/project.entity.js';
import { Member, PlanType } from './accounts.types.js';
import { Invitation } from './invitation.entity.js';
import { toMember } from './membership.resolver.js';
import { MembershipRole } from './membership.entity.js';
import { Organization } from './organization.entity.js';

@Resolver(() => Organization)
export class OrganizationResolver {
  @Auth('READ')
  @Query(() => [Organization], {
    description: "The caller's organizations (an API token sees only its own).",
  })
  async organizations(@Ctx() { viewer, services }: GraphQLContext): Promise<Organization[]> {
    const memberships = await services.organizations.listMemberships(viewer!);
    return memberships.map((membership) => membership.organization);
  }

  @Auth('READ')
  @Query(() => Organization)
  async organization(
    @Arg('id', () => ID) id: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<Organization> {
    return (await services.organizations.requireMembership(viewer!, id)).organization;
  }

  @FieldResolver(() => MembershipRole, { description: "The caller's role here." })
  async viewerRole(@Root() organization: Organization, @Ctx() { viewer, services }: GraphQLContext) {
    return (await services.organizations.requireMembership(viewer!, organization.id)).role;
  }

  @FieldResolver(() => [Project], {
    description: 'Projects the caller can see (a project token sees its one).',
  })
  async projects(
    @Root() organization: Organization,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<Project[]> {
    const projects = await services.projects.listForOrganization(organization.id);
    const onlyProject = viewer?.token?.projectId;
    return onlyProject ? projects.filter((project) => project.id === onlyProject) : projects;
  }

  @FieldResolver(() => [Member])
  async members(
    @Root() organization: Organization,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<Member[]> {
    return (await services.memberships.listMembers(viewer!, organization.id)).map(toMember);
  }

  @FieldResolver(() => [Invitation], { description: 'Pending invitations; for owners and admins.' })
  invitations(
    @Root() organization: Organization,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<Invitation[]> {
    return services.memberships.listPendingInvitations(viewer!, organization.id);
  }

  @FieldResolver(() => PlanType)
  plan(@Root() organization: Organization, @Ctx() { services }: GraphQLContext): PlanType {
    return { code: organization.plan, limits: services.limits.limitsOf(organization.plan) };
  }
}
