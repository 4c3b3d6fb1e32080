import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { UserError } from '../graphql/errors.js';
import type { AuditService } from '../privacy/audit.service.js';
import { CURRENT_POLICY_VERSION } from '../privacy/policy.js';
import { EmailLink, EmailLinkPurpose } from './email-link.entity.js';
import { OAuthIdentity, type AuthProvider } from './oauth-identity.entity.js';
import { slugOf } from './oauth-providers.js';
import type { OrganizationService } from './organization.service.js';
import type { PasswordHasher } from './password-hasher.js';
import { hashSecretToken, newSecretToken } from './secret-token.js';
import type { ClientInfo, SessionService } from './session.service.js';
import { User } from './user.entity.js';
import type { Viewer } from './viewer.js';

/** What accounts send by email; the mail domain implements it. */
export interface AccountMailer {
  sendVerificationEmail(mail: { to: string; name: string; link: string }): Promise<unknown>;
  sendPasswordResetEmail(mail: { to: string; name: string; link: string }): Promise<unknown>;
}

export interface SignUpInput {
  name: string;
  email: string;
  password: string;
  ageConfirmed: boolean;
  acceptedPolicyVersion: string;
  marketingOptIn?: boolean;
}

/** What every new account confirms, whichever way it signs up. */
export interface Consent {
  ageConfirmed: boolean;
  acceptedPolicyVersion: string;
  marketingOptIn?: boolean;
}

/** A person whose address an identity provider has verified (OAuth sign-up). */
export interface ProviderSignUpInput extends Consent {
  name: string;
  email: string;
  provider: AuthProvider;
  providerUserId: string;
}

const VERIFICATION_LINK_HOURS = 24;
const RESET_LINK_HOURS = 1;
const INVALID_LINK = 'This link is invalid, already used or expired. Ask for a new one.';

/** A signed-in result: the session token belongs in the cookie. */
export interface SignedIn {
  user: User;
  sessionToken: string;
}

export class AccountService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: {
      hasher: PasswordHasher;
      sessions: SessionService;
      organizations: OrganizationService;
      audit: AuditService;
      mailer: AccountMailer;
      publicUrl: string;
    },
  ) {}

  async signUp(input: SignUpInput, client: ClientInfo): Promise<SignedIn> {
    this.checkConsent(input);
    const user = this.newUser(input, { passwordHash: await this.deps.hasher.hash(input.password) });
    const organization = this.deps.organizations.createPersonal(user);
    const link = this.createLink(user, EmailLinkPurpose.VERIFY_EMAIL, VERIFICATION_LINK_HOURS);
    this.deps.audit.record({
      action: 'user.signed_up',
      actorId: user.id,
      organizationId: organization.id,
      client,
    });
    await this.flushNewAccount();
    await this.deps.mailer.sendVerificationEmail({
      to: user.email,
      name: user.name,
      link: this.url('verify-email', link),
    });
    const { token } = await this.deps.sessions.start(user, client);
    return { user, sessionToken: token };
  }

  /**
   * Signs up a person an identity provider vouches for: no password, the address
   * already verified (so no verification mail), the provider identity linked in
   * the same write as the account, its personal organization and audit events.
   */
  async signUpWithProvider(input: ProviderSignUpInput, client: ClientInfo): Promise<SignedIn> {
    this.checkConsent(input);
    const user = this.newUser(input, { emailVerifiedAt: new Date() });
    const organization = this.deps.organizations.createPersonal(user);
    this.em.create(OAuthIdentity, {
      user,
      provider: input.provider,
      providerUserId: input.providerUserId,
      email: user.email,
    });
    const details = { via: slugOf(input.provider) };
    this.deps.audit.record({
      action: 'user.signed_up',
      actorId: user.id,
      organizationId: organization.id,
      client,
      details,
    });
    this.deps.audit.record({ action: 'user.signed_in', actorId: user.id, client, details });
    await this.flushNewAccount();
    const { token } = await this.deps.sessions.start(user, client);
    return { user, sessionToken: token };
  }

  /** Refuses a sign-up without the age confirmation or the current policy version. */
  checkConsent(input: Consent): void {
    if (!input.ageConfirmed) {
      throw UserError.badUserInput('Daestro is for people aged 16 or older; please confirm your age.', {
        field: 'ageConfirmed',
      });
    }
    if (input.acceptedPolicyVersion !== CURRENT_POLICY_VERSION) {
      throw UserError.badUserInput(
        `Please read and accept the current privacy policy (version ${CURRENT_POLICY_VERSION}).`,
        { field: 'acceptedPolicyVersion', currentVersion: CURRENT_POLICY_VERSION },
      );
    }
  }

  /** A new user with its consent recorded now; added to the unit of work. */
  private newUser(
    input: Consent & { name: string; email: string },
    credentials: { passwordHash?: string; emailVerifiedAt?: Date },
  ): User {
    const now = new Date();
    return this.em.create(User, {
      name: input.name.trim(),
      email: normalizeEmail(input.email),
      ...credentials,
      ageConfirmedAt: now,
      acceptedPolicyVersion: CURRENT_POLICY_VERSION,
      policyAcceptedAt: now,
      marketingOptIn: input.marketingOptIn ?? false,
    });
  }

  /** Writes a new account; a taken email (or provider identity) is a CONFLICT the person can act on. */
  private async flushNewAccount(): Promise<void> {
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        this.em.clear();
        if (error.message.includes('oauth_identity')) {
          throw UserError.conflict('This account is already linked to a Daestro account: sign in with it.');
        }
        throw UserError.conflict(
          'An account with this email already exists. Sign in, or reset your password.',
          {
            field: 'email',
          },
        );
      }
      throw error;
    }
  }

  async logIn(email: string, password: string, client: ClientInfo): Promise<SignedIn> {
    const user = await this.em.findOne(User, { email: normalizeEmail(email) });
    const valid = user?.passwordHash
      ? await this.deps.hasher.verify(user.passwordHash, password)
      : await this.deps.hasher.verifyNothing(password);
    if (!user || !valid) {
      this.deps.audit.record({
        action: 'user.sign_in_failed',
        actorId: user?.id,
        client,
        details: { reason: user ? 'wrong password' : 'unknown email' },
      });
      await this.em.flush();
      throw UserError.unauthenticated('The email or password is incorrect.');
    }
    if (this.deps.hasher.needsRehash(user.passwordHash!)) {
      user.passwordHash = await this.deps.hasher.hash(password);
    }
    this.deps.audit.record({ action: 'user.signed_in', actorId: user.id, client });
    await this.em.flush();
    const { token } = await this.deps.sessions.start(user, client);
    return { user, sessionToken: token };
  }

  async logOut(viewer: Viewer, client: ClientInfo): Promise<void> {
    if (viewer.sessionId)
      await this.deps.sessions.revoke(viewer, viewer.sessionId, client, 'user.signed_out');
  }

  async viewerUser(viewer: Viewer): Promise<User> {
    return this.em.findOneOrFail(User, { id: viewer.userId });
  }

  async verifyEmail(token: string, client: ClientInfo): Promise<User> {
    const link = await this.consumeLink(token, EmailLinkPurpose.VERIFY_EMAIL);
    const { user } = link;
    // The link proves the address it was sent to; if the account's email changed since, it proves nothing.
    if (link.email !== user.email) throw UserError.badUserInput(INVALID_LINK, { field: 'token' });
    user.emailVerifiedAt ??= new Date();
    this.deps.audit.record({ action: 'user.email_verified', actorId: user.id, client });
    await this.em.flush();
    return user;
  }

  async resendVerificationEmail(viewer: Viewer): Promise<void> {
    const user = await this.viewerUser(viewer);
    if (user.emailVerifiedAt) throw UserError.badUserInput('Your email address is already verified.');
    const link = this.createLink(user, EmailLinkPurpose.VERIFY_EMAIL, VERIFICATION_LINK_HOURS);
    await this.em.flush();
    await this.deps.mailer.sendVerificationEmail({
      to: user.email,
      name: user.name,
      link: this.url('verify-email', link),
    });
  }

  /** Sends a reset link if the account exists; the caller's answer is the same either way. */
  async requestPasswordReset(email: string): Promise<void> {
    const user = await this.em.findOne(User, { email: normalizeEmail(email) });
    if (!user) return;
    const link = this.createLink(user, EmailLinkPurpose.RESET_PASSWORD, RESET_LINK_HOURS);
    await this.em.flush();
    await this.deps.mailer.sendPasswordResetEmail({
      to: user.email,
      name: user.name,
      link: this.url('reset-password', link),
    });
  }

  /** Sets a new password, ends every other session, and signs in. */
  async resetPassword(token: string, newPassword: string, client: ClientInfo): Promise<SignedIn> {
    const link = await this.consumeLink(token, EmailLinkPurpose.RESET_PASSWORD);
    const { user } = link;
    user.passwordHash = await this.deps.hasher.hash(newPassword);
    // Receiving the link proves the address too.
    if (link.email === user.email) user.emailVerifiedAt ??= new Date();
    this.deps.audit.record({ action: 'user.password_reset', actorId: user.id, client });
    await this.em.flush();
    await this.deps.sessions.revokeAllOf(user.id);
    const { token: sessionToken } = await this.deps.sessions.start(user, client);
    return { user, sessionToken };
  }

  async updateProfile(viewer: Viewer, input: { name?: string; marketingOptIn?: boolean }): Promise<User> {
    const user = await this.viewerUser(viewer);
    if (input.name !== undefined) user.name = input.name.trim();
    if (input.marketingOptIn !== undefined) user.marketingOptIn = input.marketingOptIn;
    await this.em.flush();
    return user;
  }

  /** Changes the password (the current one is required), ends every other session and rotates this one. */
  async changePassword(
    viewer: Viewer,
    input: { currentPassword: string; newPassword: string },
    client: ClientInfo,
  ): Promise<SignedIn> {
    const user = await this.requirePassword(viewer, input.currentPassword);
    user.passwordHash = await this.deps.hasher.hash(input.newPassword);
    this.deps.audit.record({ action: 'user.password_changed', actorId: user.id, client });
    await this.em.flush();
    await this.deps.sessions.revokeAllOf(user.id, viewer.sessionId);
    // SESSION is required to get here, so there is a current session to renew.
    return { user, sessionToken: await this.deps.sessions.rotate(viewer.sessionId!) };
  }

  /** Changes the email address (the password is required); the new address must be verified again. */
  async changeEmail(
    viewer: Viewer,
    input: { newEmail: string; currentPassword: string },
    client: ClientInfo,
  ): Promise<User> {
    const user = await this.requirePassword(viewer, input.currentPassword);
    const previous = user.email;
    user.email = normalizeEmail(input.newEmail);
    if (user.email === previous) return user;
    user.emailVerifiedAt = undefined;
    const link = this.createLink(user, EmailLinkPurpose.VERIFY_EMAIL, VERIFICATION_LINK_HOURS);
    this.deps.audit.record({ action: 'user.email_changed', actorId: user.id, client, details: { previous } });
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        this.em.clear();
        throw UserError.conflict('Another account uses this email address.', { field: 'newEmail' });
      }
      throw error;
    }
    await this.deps.mailer.sendVerificationEmail({
      to: user.email,
      name: user.name,
      link: this.url('verify-email', link),
    });
    return user;
  }

  private async requirePassword(viewer: Viewer, password: string): Promise<User> {
    const user = await this.viewerUser(viewer);
    if (!user.passwordHash || !(await this.deps.hasher.verify(user.passwordHash, password))) {
      throw UserError.badUserInput('The current password is incorrect.', { field: 'currentPassword' });
    }
    return user;
  }

  private createLink(user: User, purpose: EmailLinkPurpose, validHours: number): string {
    const { secret, hash } = newSecretToken();
    this.em.create(EmailLink, {
      user,
      purpose,
      tokenHash: hash,
      email: user.email,
      expiresAt: new Date(Date.now() + validHours * 3_600_000),
    });
    return secret;
  }

  /** Marks a link used, atomically, so two clicks cannot both succeed. */
  private async consumeLink(token: string, purpose: EmailLinkPurpose): Promise<EmailLink> {
    const used = await this.em.nativeUpdate(
      EmailLink,
      { tokenHash: hashSecretToken(token), purpose, usedAt: null, expiresAt: { $gt: new Date() } },
      { usedAt: new Date() },
    );
    if (used !== 1) throw UserError.badUserInput(INVALID_LINK, { field: 'token' });
    return this.em.findOneOrFail(EmailLink, { tokenHash: hashSecretToken(token) }, { populate: ['user'] });
  }

  private url(page: string, token: string): string {
    return `${this.deps.publicUrl}/${page}?token=${encodeURIComponent(token)}`;
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
