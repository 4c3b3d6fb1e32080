import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { RevokeSessionInput, RevokeSessionPayload } from './accounts.types.js';
import { Session } from './session.entity.js';
import { describeUserAgent } from './user-agent.js';

@Resolver(() => Session)
export class SessionResolver {
  @Auth('SESSION')
  @Query(() => [Session], {
    description: "The signed-in person's active sessions, most recently used first.",
  })
  sessions(@Ctx() { viewer, services }: GraphQLContext): Promise<Session[]> {
    return services.sessions.listActive(viewer!);
  }

  @Auth('SESSION')
  @Mutation(() => RevokeSessionPayload, { description: 'Ends a session; its open WebSockets close at once.' })
  async revokeSession(
    @Arg('input') input: RevokeSessionInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<RevokeSessionPayload> {
    return { session: await services.sessions.revoke(viewer!, input.sessionId, client) };
  }

  @FieldResolver(() => Boolean, { description: 'This is the session making the request.' })
  current(@Root() session: Session, @Ctx() { viewer }: GraphQLContext): boolean {
    return session.id === viewer?.sessionId;
  }

  @FieldResolver(() => String, { description: 'e.g. "Firefox 133".' })
  browser(@Root() session: Session): string {
    return describeUserAgent(session.userAgent).browser;
  }

  @FieldResolver(() => String, { description: 'e.g. "Ubuntu" or "iOS 18.1".' })
  os(@Root() session: Session): string {
    return describeUserAgent(session.userAgent).os;
  }

  @FieldResolver(() => String, { description: 'e.g. "Desktop" or "Apple iPhone".' })
  device(@Root() session: Session): string {
    return describeUserAgent(session.userAgent).device;
  }
}
