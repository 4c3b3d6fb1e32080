import type { EntityManager } from '@mikro-orm/postgresql';
import { LockMode } from '@mikro-orm/core';
import { generateCodeVerifier, generateState } from 'arctic';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import type { AuditService } from '../privacy/audit.service.js';
import type { AccountService, Consent, SignedIn } from './account.service.js';
import { OAuthAttempt, OAuthSignUpTicket } from './oauth-attempt.entity.js';
import { OAuthIdentity, type AuthProvider } from './oauth-identity.entity.js';
import { ProviderError, slugOf, type OAuthProvider, type ProviderProfile } from './oauth-providers.js';
import { hashSecretToken, newSecretToken, sameHash } from './secret-token.js';
import type { ClientInfo, SessionService } from './session.service.js';
import { User } from './user.entity.js';
import type { Viewer } from './viewer.js';

const ATTEMPT_MINUTES = 10;
const TICKET_MINUTES = 15;

/**
 * Why a sign-in with a provider ended on the sign-in page: `/sign-in?error=<code>`.
 * Stable: the dashboard shows a message for each.
 */
export const OAuthErrorCode = {
  /** The person declined at the provider. */
  DENIED: 'oauth_denied',
  /** The state is unknown, used, expired, or from another browser (login CSRF). */
  INVALID_STATE: 'oauth_invalid_state',
  /** The provider refused the code or failed; or something broke on our side. */
  FAILED: 'oauth_failed',
  /** The provider has no verified address for the person. */
  EMAIL_UNVERIFIED: 'oauth_email_unverified',
  /** A Daestro account has the address, but never proved it: sign in with the password instead. */
  ACCOUNT_UNVERIFIED: 'oauth_account_unverified',
  /** This provider is not configured on this server. */
  UNAVAILABLE: 'oauth_unavailable',
  /** Too many sign-in attempts from this address. */
  RATE_LIMITED: 'oauth_rate_limited',
} as const;
export type OAuthErrorCode = (typeof OAuthErrorCode)[keyof typeof OAuthErrorCode];

/** A sign-in with a provider that ends on the sign-in page; `reason` and `details` are for the server log. */
export class OAuthFlowError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly reason: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(reason);
    this.name = 'OAuthFlowError';
  }
}

/** How a callback ends: signed in (set the cookie, go to `next`), or on to confirm age and policy. */
export type CallbackOutcome =
  { kind: 'signed-in'; sessionToken: string; next: string } | { kind: 'sign-up'; ticket: string };

export interface OAuthSignUpPreview {
  provider: AuthProvider;
  email: string;
  name: string;
}

const INVALID_TICKET =
  'This sign-up link is invalid, already used, expired or was opened in another browser. Sign in with the provider again.';

/**
 * Sign-in with GitHub and Google: authorization code flow with state and PKCE
 * (S256), both kept server-side in an OAuthAttempt.
 *
 * Login CSRF: an attacker must not be able to finish *their* sign-in in a
 * victim's browser. The attempt (and a later sign-up ticket) is bound to the
 * browser that started it through the one cookie Daestro sets: the session
 * cookie's value if the browser has one, else a fresh random value set under
 * the same name (it authenticates nothing; it is replaced by a real session
 * token at sign-in). Only a hash of it is stored.
 *
 * Linking: a provider identity joins an existing account only when the provider
 * vouches for the address AND the account has proven it too; otherwise whoever
 * pre-registered an address could take over the real owner's sign-in.
 */
export class OAuthService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: {
      providers: readonly OAuthProvider[];
      accounts: AccountService;
      sessions: SessionService;
      audit: AuditService;
    },
  ) {}

  enabledProviders(): AuthProvider[] {
    return this.deps.providers.map((provider) => provider.id);
  }

  provider(id: AuthProvider): OAuthProvider | undefined {
    return this.deps.providers.find((provider) => provider.id === id);
  }

  /** Records a new attempt and returns the provider's authorization URL to redirect to. */
  async start(provider: OAuthProvider, browserToken: string, next: string): Promise<URL> {
    const now = new Date();
    await this.em.nativeDelete(OAuthAttempt, { expiresAt: { $lt: now } });
    const state = generateState();
    const codeVerifier = generateCodeVerifier();
    this.em.create(OAuthAttempt, {
      provider: provider.id,
      stateHash: hashSecretToken(state),
      codeVerifier,
      browserHash: browserBinding(browserToken),
      next,
      expiresAt: new Date(now.getTime() + ATTEMPT_MINUTES * 60_000),
    });
    await this.em.flush();
    return provider.authorizationUrl(state, codeVerifier);
  }

  /** Handles the provider's redirect back: the state must be fresh, unused and from this browser. */
  async finish(
    provider: OAuthProvider,
    params: { code: string; state: string; browserToken: string | undefined },
    client: ClientInfo,
  ): Promise<CallbackOutcome> {
    const attempt = await this.consumeAttempt(provider.id, params.state, params.browserToken);
    let profile: ProviderProfile;
    try {
      profile = await provider.profile(params.code, attempt.codeVerifier!);
    } catch (error) {
      if (error instanceof ProviderError)
        throw new OAuthFlowError(OAuthErrorCode.FAILED, error.message, error.details);
      throw error;
    }
    const via = slugOf(provider.id);

    const identity = await this.em.findOne(
      OAuthIdentity,
      { provider: provider.id, providerUserId: profile.providerUserId },
      { populate: ['user'] },
    );
    if (identity) return this.signIn(identity.user, via, client, attempt.next);

    if (!profile.verifiedEmail) {
      throw new OAuthFlowError(OAuthErrorCode.EMAIL_UNVERIFIED, 'the provider has no verified email address');
    }
    const user = await this.em.findOne(User, { email: profile.verifiedEmail });
    if (user) {
      if (!user.emailVerifiedAt) {
        this.deps.audit.record({
          action: 'user.sign_in_failed',
          actorId: user.id,
          client,
          details: { via, reason: 'the account has not verified its email address; not linked' },
        });
        await this.em.flush();
        throw new OAuthFlowError(OAuthErrorCode.ACCOUNT_UNVERIFIED, 'the matching account is unverified');
      }
      this.em.create(OAuthIdentity, {
        user,
        provider: provider.id,
        providerUserId: profile.providerUserId,
        email: profile.verifiedEmail,
      });
      this.deps.audit.record({ action: 'user.oauth_linked', actorId: user.id, client, details: { via } });
      return this.signIn(user, via, client, attempt.next);
    }

    // A new person: no account until they confirm their age and accept the policy.
    const now = new Date();
    await this.em.nativeDelete(OAuthSignUpTicket, { expiresAt: { $lt: now } });
    const { secret, hash } = newSecretToken();
    this.em.create(OAuthSignUpTicket, {
      ticketHash: hash,
      browserHash: attempt.browserHash,
      provider: provider.id,
      providerUserId: profile.providerUserId,
      email: profile.verifiedEmail,
      name: profile.name.slice(0, 100),
      next: attempt.next,
      expiresAt: new Date(now.getTime() + TICKET_MINUTES * 60_000),
    });
    await this.em.flush();
    return { kind: 'sign-up', ticket: secret };
  }

  /** What a sign-up ticket holds, for the page that asks for consent; null if it cannot be used here. */
  async previewSignUp(ticket: string, browserToken: string | undefined): Promise<OAuthSignUpPreview | null> {
    if (!browserToken) return null;
    const found = await this.em.findOne(OAuthSignUpTicket, {
      ticketHash: hashSecretToken(ticket),
      browserHash: browserBinding(browserToken),
      usedAt: null,
      expiresAt: { $gt: new Date() },
    });
    return found && { provider: found.provider, email: found.email, name: found.name };
  }

  /** Creates the account of a ticket once its person has confirmed their age and accepted the policy. */
  async completeSignUp(
    input: Consent & { ticket: string; name?: string },
    browserToken: string | undefined,
    client: ClientInfo,
  ): Promise<SignedIn & { next: string }> {
    // Before the ticket is spent, so a missed checkbox does not cost the person a round trip to the provider.
    this.deps.accounts.checkConsent(input);
    const used = browserToken
      ? await this.em.nativeUpdate(
          OAuthSignUpTicket,
          {
            ticketHash: hashSecretToken(input.ticket),
            browserHash: browserBinding(browserToken),
            usedAt: null,
            expiresAt: { $gt: new Date() },
          },
          { usedAt: new Date() },
        )
      : 0;
    if (used !== 1) throw UserError.badUserInput(INVALID_TICKET, { field: 'ticket' });
    const ticket = await this.em.findOneOrFail(OAuthSignUpTicket, {
      ticketHash: hashSecretToken(input.ticket),
    });
    const signedIn = await this.deps.accounts.signUpWithProvider(
      {
        ...input,
        name: input.name?.trim() || ticket.name,
        email: ticket.email,
        provider: ticket.provider,
        providerUserId: ticket.providerUserId,
      },
      client,
    );
    return { ...signedIn, next: ticket.next };
  }

  async listIdentities(viewer: Viewer): Promise<OAuthIdentity[]> {
    return this.em.find(OAuthIdentity, { user: viewer.userId }, { orderBy: { createdAt: 'asc' } });
  }

  /** Whether unlinking leaves the person a way to sign in: a password or another identity. */
  async canUnlink(identity: OAuthIdentity): Promise<boolean> {
    const user = await this.em.findOneOrFail(User, { id: identity.user.id });
    if (user.passwordHash) return true;
    return (await this.em.count(OAuthIdentity, { user: user.id, id: { $ne: identity.id } })) > 0;
  }

  /** Unlinks one of the caller's identities, unless it is their last way to sign in. */
  async unlink(viewer: Viewer, identityId: string, client: ClientInfo): Promise<OAuthIdentity> {
    await this.em.begin();
    try {
      // Locking the user serializes two unlinks racing to remove the last two identities.
      const user = await this.em.findOneOrFail(
        User,
        { id: viewer.userId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      const identity = isValidId(identityId)
        ? await this.em.findOne(OAuthIdentity, { id: identityId, user: user.id })
        : null;
      if (!identity) throw UserError.notFound('Sign-in identity', identityId);
      const others = await this.em.count(OAuthIdentity, { user: user.id, id: { $ne: identity.id } });
      if (!user.passwordHash && others === 0) {
        throw UserError.conflict(
          'This is your only way to sign in. Set a password first ("Forgot your password?" on the sign-in page emails you a link), then unlink it.',
        );
      }
      this.em.remove(identity);
      this.deps.audit.record({
        action: 'user.oauth_unlinked',
        actorId: user.id,
        client,
        details: { via: slugOf(identity.provider) },
      });
      await this.em.commit();
      return identity;
    } catch (error) {
      if (this.em.isInTransaction()) await this.em.rollback();
      throw error;
    }
  }

  /** A fresh session (never the browser's previous token): the cookie gets its token. */
  private async signIn(user: User, via: string, client: ClientInfo, next: string): Promise<CallbackOutcome> {
    this.deps.audit.record({ action: 'user.signed_in', actorId: user.id, client, details: { via } });
    await this.em.flush();
    const { token } = await this.deps.sessions.start(user, client);
    return { kind: 'signed-in', sessionToken: token, next };
  }

  /** Marks the attempt used, atomically (two callbacks cannot both succeed), and returns it. */
  private async consumeAttempt(
    provider: AuthProvider,
    state: string,
    browserToken: string | undefined,
  ): Promise<OAuthAttempt> {
    const attempt = await this.em.findOne(OAuthAttempt, { stateHash: hashSecretToken(state), provider });
    if (!attempt) throw new OAuthFlowError(OAuthErrorCode.INVALID_STATE, 'unknown state');
    const consumed = await this.em.nativeUpdate(
      OAuthAttempt,
      { id: attempt.id, usedAt: null, expiresAt: { $gt: new Date() } },
      { usedAt: new Date(), codeVerifier: null },
    );
    if (consumed !== 1)
      throw new OAuthFlowError(OAuthErrorCode.INVALID_STATE, 'state already used or expired');
    if (!browserToken || !sameHash(attempt.browserHash, browserBinding(browserToken))) {
      throw new OAuthFlowError(OAuthErrorCode.INVALID_STATE, 'state from another browser');
    }
    return attempt;
  }
}

/**
 * What an attempt stores to recognise its browser: a hash of the cookie value,
 * domain-separated so it never equals a session's stored token hash.
 */
export function browserBinding(cookieValue: string): string {
  return hashSecretToken(`oauth-browser:${cookieValue}`);
}
