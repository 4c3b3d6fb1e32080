import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';
import { AuthProvider } from './oauth-identity.entity.js';

/**
 * A sign-in with a provider in progress, between `/auth/<provider>/start` and its
 * callback. It lives here rather than in a cookie: Daestro sets one cookie only.
 * Single use: the callback consumes it atomically.
 */
@Entity({ tableName: 'oauth_attempt' })
export class OAuthAttempt {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Enum({ items: () => AuthProvider })
  provider!: AuthProvider;

  /** SHA-256 of the `state` parameter, which travels through the provider and back. */
  @Property({ type: 'text', unique: true, hidden: true })
  stateHash!: string;

  /**
   * The PKCE code verifier: a short-lived secret sent only to the provider's token
   * endpoint, never to the browser. Cleared when the attempt is consumed.
   */
  @Property({ type: 'text', nullable: true, hidden: true })
  codeVerifier?: string;

  /** Binds the attempt to the browser that started it (login CSRF): see OAuthService.browserBinding. */
  @Property({ type: 'text', hidden: true })
  browserHash!: string;

  /** Where to send the person once signed in: a path on this site. */
  @Property({ type: 'text' })
  next!: string;

  @Index()
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}

/**
 * A provider-verified profile waiting for its person to confirm their age and
 * accept the privacy policy before an account is created (`completeOAuthSignUp`).
 * The ticket travels in the URL; only its hash is stored, and it only works in
 * the browser that signed in with the provider.
 */
@Entity({ tableName: 'oauth_sign_up_ticket' })
export class OAuthSignUpTicket {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Property({ type: 'text', unique: true, hidden: true })
  ticketHash!: string;

  @Property({ type: 'text', hidden: true })
  browserHash!: string;

  @Enum({ items: () => AuthProvider })
  provider!: AuthProvider;

  @Property({ type: 'text' })
  providerUserId!: string;

  /** Verified by the provider, lower-cased. */
  @Property({ type: 'text' })
  email!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  next!: string;

  @Index()
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
