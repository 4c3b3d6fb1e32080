import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { UserError } from '../graphql/errors.js';
import type { AuditService } from '../privacy/audit.service.js';
import { CURRENT_POLICY_VERSION } from '../privacy/policy.js';
import { EmailLink, EmailLinkPurpose } from './email-link.entity.js';
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
    const now = new Date();
    const user = this.em.create(User, {
      name: input.name.trim(),
      email: normalizeEmail(input.email),
      passwordHash: await this.deps.hasher.hash(input.password),
      ageConfirmedAt: now,
      acceptedPolicyVersion: CURRENT_POLICY_VERSION,
      policyAcceptedAt: now,
      marketingOptIn: input.marketingOptIn ?? false,
    });
    const organization = this.deps.organizations.createPersonal(user);
    const link = this.createLink(user, EmailLinkPurpose.VERIFY_EMAIL, VERIFICATION_LINK_HOURS);
    this.deps.audit.record({
      action: 'user.signed_up',
      actorId: user.id,
      organizationId: organization.id,
      client,
    });
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        this.em.clear();
        throw UserError.conflict(
          'An account with this email already exists. Sign in, or reset your password.',
          {
            field: 'email',
          },
        );
      }
      throw error;
    }
    await this.deps.mailer.sendVerificationEmail({
      to: user.email,
      name: user.name,
      link: this.url('verify-email', link),
    });
    const { token } = await this.deps.sessions.start(user, client);
    return { user, sessionToken: token };
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
