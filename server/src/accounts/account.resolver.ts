import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Auth, Public } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { UserError } from '../graphql/errors.js';
import { CURRENT_POLICY_VERSION } from '../privacy/policy.js';
import {
  AcceptedPayload,
  ChangeEmailInput,
  ChangePasswordInput,
  LogInInput,
  LogOutPayload,
  PrivacyPolicy,
  RequestPasswordResetInput,
  ResetPasswordInput,
  SignUpInput,
  SignedInPayload,
  UpdateProfileInput,
  UserPayload,
  VerifyEmailInput,
  VerifyEmailPayload,
} from './accounts.types.js';
import type { SignedIn } from './account.service.js';
import { User } from './user.entity.js';

@Resolver()
export class AccountResolver {
  @Public()
  @Query(() => User, { nullable: true, description: 'The signed-in person, or null.' })
  me(@Ctx() { viewer, services }: GraphQLContext): Promise<User> | null {
    return viewer ? services.accounts.viewerUser(viewer) : null;
  }

  @Public()
  @Query(() => PrivacyPolicy)
  privacyPolicy(): PrivacyPolicy {
    return { version: CURRENT_POLICY_VERSION };
  }

  @Public()
  @Mutation(() => SignedInPayload, {
    description: 'Creates an account with a personal organization, emails a verification link, and signs in.',
  })
  async signUp(@Arg('input') input: SignUpInput, @Ctx() context: GraphQLContext): Promise<SignedInPayload> {
    const cookie = requireCookieChannel(context);
    await context.services.throttle.consume('signUp', context.client, input.email);
    return startSession(await context.services.accounts.signUp(input, context.client), cookie);
  }

  @Public()
  @Mutation(() => SignedInPayload)
  async logIn(@Arg('input') input: LogInInput, @Ctx() context: GraphQLContext): Promise<SignedInPayload> {
    const cookie = requireCookieChannel(context);
    await context.services.throttle.consume('logIn', context.client, input.email);
    return startSession(
      await context.services.accounts.logIn(input.email, input.password, context.client),
      cookie,
    );
  }

  @Auth('SESSION')
  @Mutation(() => LogOutPayload, { description: 'Ends this browser session.' })
  async logOut(@Ctx() context: GraphQLContext): Promise<LogOutPayload> {
    await context.services.accounts.logOut(context.viewer!, context.client);
    context.sessionCookie?.clear();
    return { signedOut: true };
  }

  @Public()
  @Mutation(() => VerifyEmailPayload)
  async verifyEmail(
    @Arg('input') input: VerifyEmailInput,
    @Ctx() context: GraphQLContext,
  ): Promise<VerifyEmailPayload> {
    return { user: await context.services.accounts.verifyEmail(input.token, context.client) };
  }

  @Auth('SESSION')
  @Mutation(() => AcceptedPayload, { description: 'Sends a new verification link to the signed-in person.' })
  async resendVerificationEmail(@Ctx() context: GraphQLContext): Promise<AcceptedPayload> {
    await context.services.throttle.consume('resendVerificationEmail', context.client, context.viewer!.email);
    await context.services.accounts.resendVerificationEmail(context.viewer!);
    return { accepted: true };
  }

  @Public()
  @Mutation(() => AcceptedPayload, {
    description: 'Emails a password reset link if the address has an account; answers the same either way.',
  })
  async requestPasswordReset(
    @Arg('input') input: RequestPasswordResetInput,
    @Ctx() context: GraphQLContext,
  ): Promise<AcceptedPayload> {
    await context.services.throttle.consume('requestPasswordReset', context.client, input.email);
    await context.services.accounts.requestPasswordReset(input.email);
    return { accepted: true };
  }

  @Public()
  @Mutation(() => SignedInPayload, {
    description: 'Sets a new password, ends every other session, and signs in.',
  })
  async resetPassword(
    @Arg('input') input: ResetPasswordInput,
    @Ctx() context: GraphQLContext,
  ): Promise<SignedInPayload> {
    const cookie = requireCookieChannel(context);
    await context.services.throttle.consume('resetPassword', context.client);
    return startSession(
      await context.services.accounts.resetPassword(input.token, input.newPassword, context.client),
      cookie,
    );
  }
}

@Resolver()
export class ProfileResolver {
  @Auth('SESSION')
  @Mutation(() => UserPayload)
  async updateProfile(
    @Arg('input') input: UpdateProfileInput,
    @Ctx() context: GraphQLContext,
  ): Promise<UserPayload> {
    return { user: await context.services.accounts.updateProfile(context.viewer!, input) };
  }

  @Auth('SESSION')
  @Mutation(() => SignedInPayload, {
    description: 'Needs the current password; ends every other session and renews this one.',
  })
  async changePassword(
    @Arg('input') input: ChangePasswordInput,
    @Ctx() context: GraphQLContext,
  ): Promise<SignedInPayload> {
    const cookie = requireCookieChannel(context);
    await context.services.throttle.consume('confirmPassword', context.client, context.viewer!.email);
    return startSession(
      await context.services.accounts.changePassword(context.viewer!, input, context.client),
      cookie,
    );
  }

  @Auth('SESSION')
  @Mutation(() => UserPayload, {
    description:
      'Needs the current password; the new address gets a verification link and is unverified until then.',
  })
  async changeEmail(
    @Arg('input') input: ChangeEmailInput,
    @Ctx() context: GraphQLContext,
  ): Promise<UserPayload> {
    await context.services.throttle.consume('confirmPassword', context.client, context.viewer!.email);
    return { user: await context.services.accounts.changeEmail(context.viewer!, input, context.client) };
  }
}

@Resolver(() => User)
export class UserFieldsResolver {
  // Says whether a password exists, never anything about it.
  @FieldResolver(() => Boolean, {
    description: 'The person can sign in with a password (false for accounts made through GitHub or Google).',
  })
  hasPassword(@Root() user: User): boolean {
    return user.passwordHash !== undefined && user.passwordHash !== null;
  }
}

/** Sessions live in a cookie, which only an HTTP response can set. */
function requireCookieChannel(context: GraphQLContext) {
  if (!context.sessionCookie) {
    throw UserError.badUserInput('Sign in over HTTP (POST /graphql): the session is kept in a cookie.');
  }
  return context.sessionCookie;
}

function startSession(
  signedIn: SignedIn,
  cookie: NonNullable<GraphQLContext['sessionCookie']>,
): SignedInPayload {
  cookie.set(signedIn.sessionToken);
  return { user: signedIn.user };
}
