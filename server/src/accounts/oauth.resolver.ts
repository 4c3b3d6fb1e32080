import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Auth, Public } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { UserError } from '../graphql/errors.js';
import { AuthProvider, OAuthIdentity } from './oauth-identity.entity.js';
import {
  CompleteOAuthSignUpInput,
  CompleteOAuthSignUpPayload,
  OAuthSignUpPreview,
  UnlinkOAuthIdentityInput,
  UnlinkOAuthIdentityPayload,
} from './oauth.types.js';

/**
 * The GraphQL half of sign-in with GitHub and Google; the redirects live in
 * oauth.routes.ts (`/auth/<provider>/start` and `/callback`).
 */
@Resolver(() => OAuthIdentity)
export class OAuthResolver {
  @Public()
  @Query(() => [AuthProvider], {
    description: 'The providers this server offers sign-in with; start one at /auth/<github|google>/start.',
  })
  authProviders(@Ctx() { services }: GraphQLContext): AuthProvider[] {
    return services.oauth.enabledProviders();
  }

  @Public()
  @Query(() => OAuthSignUpPreview, {
    nullable: true,
    description:
      'Who a sign-up ticket is for; null when it is invalid, used, expired or from another browser.',
  })
  oauthSignUp(
    @Arg('ticket') ticket: string,
    @Ctx() { services, sessionCookie }: GraphQLContext,
  ): Promise<OAuthSignUpPreview | null> {
    return services.oauth.previewSignUp(ticket, sessionCookie?.presented);
  }

  @Public()
  @Mutation(() => CompleteOAuthSignUpPayload, {
    description:
      'Creates the account a provider sign-in led to, once the person confirms their age and accepts the policy; signs in.',
  })
  async completeOAuthSignUp(
    @Arg('input') input: CompleteOAuthSignUpInput,
    @Ctx() { services, sessionCookie, client }: GraphQLContext,
  ): Promise<CompleteOAuthSignUpPayload> {
    // The ticket is bound to the browser's cookie, and the new session goes in it: HTTP only.
    if (!sessionCookie) {
      throw UserError.badUserInput('Sign up over HTTP (POST /graphql): the session is kept in a cookie.');
    }
    await services.throttle.consume('signUp', client);
    const signedIn = await services.oauth.completeSignUp(input, sessionCookie.presented, client);
    sessionCookie.set(signedIn.sessionToken);
    return { user: signedIn.user, next: signedIn.next };
  }

  @Auth('SESSION')
  @Query(() => [OAuthIdentity], {
    description: 'The GitHub and Google accounts the signed-in person can sign in with.',
  })
  oauthIdentities(@Ctx() { viewer, services }: GraphQLContext): Promise<OAuthIdentity[]> {
    return services.oauth.listIdentities(viewer!);
  }

  @Auth('SESSION')
  @Mutation(() => UnlinkOAuthIdentityPayload, {
    description: 'Stops a GitHub or Google account signing in here; refused for the last way to sign in.',
  })
  async unlinkOAuthIdentity(
    @Arg('input') input: UnlinkOAuthIdentityInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<UnlinkOAuthIdentityPayload> {
    return { identity: await services.oauth.unlink(viewer!, input.identityId, client) };
  }

  @FieldResolver(() => Boolean, {
    description: 'Unlinking leaves a way to sign in (a password or another identity).',
  })
  canUnlink(@Root() identity: OAuthIdentity, @Ctx() { services }: GraphQLContext): Promise<boolean> {
    return services.oauth.canUnlink(identity);
  }
}
