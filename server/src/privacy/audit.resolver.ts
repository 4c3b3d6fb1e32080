import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { MembershipRole } from '../accounts/membership.entity.js';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { UserError } from '../graphql/errors.js';
import { AuditEvent } from './audit-event.entity.js';

const MAX_PAGE = 200;

@Resolver()
export class AuditResolver {
  @Auth('ADMIN')
  @Query(() => [AuditEvent], {
    description:
      "An organization's security events, newest first; for owners and admins. Page with `before`.",
  })
  async auditEvents(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Arg('before', () => Date, { nullable: true, description: 'Only events older than this time.' })
    before: Date | undefined,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<AuditEvent[]> {
    assertPageSize(first);
    await services.organizations.requireMembership(viewer!, organizationId, MembershipRole.ADMIN);
    return services.audit.listForOrganization(organizationId, { first, before });
  }

  @Auth('SESSION')
  @Query(() => [AuditEvent], {
    description:
      'Your own security history (sign-ins and failed attempts, password, email and session changes), newest first.',
  })
  mySecurityEvents(
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Arg('before', () => Date, { nullable: true, description: 'Only events older than this time.' })
    before: Date | undefined,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<AuditEvent[]> {
    assertPageSize(first);
    return services.audit.listForActor(viewer!.userId, { first, before });
  }
}

function assertPageSize(first: number): void {
  if (first < 1 || first > MAX_PAGE) {
    throw UserError.badUserInput(`first must be from 1 to ${MAX_PAGE}.`, { field: 'first' });
  }
}
