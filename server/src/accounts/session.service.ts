import type { EntityManager } from '@mikro-orm/postgresql';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import type { AuditService } from '../privacy/audit.service.js';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import { hashSecretToken, newSecretToken } from './secret-token.js';
import { Session } from './session.entity.js';
import type { User } from './user.entity.js';
import type { Viewer } from './viewer.js';

/** Where a request came from, recorded on sessions and audit events. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface SessionPolicy {
  idleTimeoutSeconds: number;
  absoluteTimeoutSeconds: number;
}

// Writing lastSeenAt on every request would turn every read into a write; a
// minute is fine-grained enough, unless the idle timeout itself is that short.
const LAST_SEEN_GRANULARITY_MS = 60_000;

export class SessionService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: SessionPolicy,
    private readonly pubSub: DaestroPubSub,
    private readonly audit: AuditService,
  ) {}

  /** A new session with a fresh token (never reuse one across sign-ins). The token goes in the cookie. */
  async start(user: User, client: ClientInfo): Promise<{ session: Session; token: string }> {
    const { secret, hash } = newSecretToken();
    const session = this.em.create(Session, {
      user,
      tokenHash: hash,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512),
      expiresAt: new Date(Date.now() + this.policy.absoluteTimeoutSeconds * 1000),
    });
    await this.em.flush();
    return { session, token: secret };
  }

  /**
   * Gives a live session a new token (after a password change): the old cookie
   * stops working, while this browser's open sockets, already authenticated, stay.
   */
  async rotate(sessionId: string): Promise<string> {
    const { secret, hash } = newSecretToken();
    const rotated = await this.em.nativeUpdate(
      Session,
      { id: sessionId, revokedAt: null },
      { tokenHash: hash, lastSeenAt: new Date() },
    );
    if (rotated !== 1) throw UserError.unauthenticated('Your session has ended. Sign in again.');
    return secret;
  }

  /** The viewer behind a session cookie, or undefined when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Viewer | undefined> {
    const session = await this.em.findOne(
      Session,
      { tokenHash: hashSecretToken(token) },
      { populate: ['user'] },
    );
    if (!session || !this.isActive(session)) return undefined;
    const granularity = Math.min(LAST_SEEN_GRANULARITY_MS, (this.policy.idleTimeoutSeconds * 1000) / 4);
    if (Date.now() - session.lastSeenAt.getTime() > granularity) {
      await this.em.nativeUpdate(Session, { id: session.id }, { lastSeenAt: new Date() });
    }
    const { user } = session;
    return {
      userId: user.id,
      email: user.email,
      emailVerified: !!user.emailVerifiedAt,
      sessionId: session.id,
    };
  }

  /** The caller's sessions that can still be used, newest activity first. */
  async listActive(viewer: Viewer): Promise<Session[]> {
    const sessions = await this.em.find(
      Session,
      { user: viewer.userId, revokedAt: null, expiresAt: { $gt: new Date() } },
      { orderBy: { lastSeenAt: 'desc' } },
    );
    return sessions.filter((session) => this.isActive(session));
  }

  /** Ends one of the caller's sessions (signing out is ending one's own); its open WebSockets close at once. */
  async revoke(
    viewer: Viewer,
    sessionId: string,
    client: ClientInfo,
    action: 'session.revoked' | 'user.signed_out' = 'session.revoked',
  ): Promise<Session> {
    const session = isValidId(sessionId)
      ? await this.em.findOne(Session, { id: sessionId, user: viewer.userId, revokedAt: null })
      : null;
    if (!session) throw UserError.notFound('Session', sessionId);
    session.revokedAt = new Date();
    this.audit.record({ action, actorId: viewer.userId, client, details: { sessionId } });
    await this.em.flush();
    this.announceRevoked([session.id]);
    return session;
  }

  /** Ends every session of a user but `keep` (after a password reset or change). */
  async revokeAllOf(userId: string, keep?: string): Promise<void> {
    const sessions = await this.em.find(Session, {
      user: userId,
      revokedAt: null,
      ...(keep ? { id: { $ne: keep } } : {}),
    });
    const now = new Date();
    for (const session of sessions) session.revokedAt = now;
    await this.em.flush();
    this.announceRevoked(sessions.map((session) => session.id));
  }

  private announceRevoked(sessionIds: string[]): void {
    for (const sessionId of sessionIds) this.pubSub.publish('session.revoked', { sessionId });
  }

  private isActive(session: Session): boolean {
    const now = Date.now();
    return (
      !session.revokedAt &&
      session.expiresAt.getTime() > now &&
      session.lastSeenAt.getTime() + this.policy.idleTimeoutSeconds * 1000 > now
    );
  }
}
