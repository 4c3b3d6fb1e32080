import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from './audit-event.entity.js';
import type { ClientInfo } from '../accounts/session.service.js';

/** Security events we record (DESIGN.md §7). */
export type AuditAction =
  | 'user.signed_up'
  | 'user.signed_in'
  | 'user.sign_in_failed'
  | 'user.signed_out'
  | 'user.email_verified'
  | 'user.password_reset'
  | 'user.password_changed'
  | 'user.email_changed'
  | 'user.oauth_linked'
  | 'user.oauth_unlinked'
  | 'session.revoked'
  | 'api_token.created'
  | 'api_token.revoked'
  | 'cloud_auth.created'
  | 'cloud_auth.deleted'
  | 'cloud_auth.used'
  | 'registry_auth.created'
  | 'registry_auth.deleted'
  | 'registry_auth.used'
  | 'compute_environment.created'
  | 'compute_environment.token_rotated'
  | 'compute_environment.deleted'
  | 'agent.registered'
  | 'compute_spawn.retired'
  | 'organization.created'
  | 'member.invited'
  | 'member.invitation_revoked'
  | 'member.joined'
  | 'member.role_changed'
  | 'member.removed'
  | 'member.left';

export interface AuditRecord {
  action: AuditAction;
  actorId?: string;
  organizationId?: string;
  client?: ClientInfo;
  details?: Record<string, unknown>;
}

export class AuditService {
  constructor(private readonly em: EntityManager) {}

  /** Adds the event to the unit of work; it is written with the change it records. */
  record(event: AuditRecord): AuditEvent {
    return this.em.create(AuditEvent, {
      action: event.action,
      actor: event.actorId,
      organization: event.organizationId,
      ip: event.client?.ip,
      userAgent: event.client?.userAgent?.slice(0, 512),
      details: event.details ?? {},
    });
  }

  /** Events a person caused (sign-ins, failed sign-ins, password and session changes…), newest first. */
  async listForActor(userId: string, options: { first: number; before?: Date }): Promise<AuditEvent[]> {
    return this.em.find(
      AuditEvent,
      { actor: userId, ...(options.before ? { createdAt: { $lt: options.before } } : {}) },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: options.first, populate: ['actor'] },
    );
  }

  /** An organization's events, newest first. The caller checks the viewer may read them. */
  async listForOrganization(
    organizationId: string,
    options: { first: number; before?: Date },
  ): Promise<AuditEvent[]> {
    return this.em.find(
      AuditEvent,
      { organization: organizationId, ...(options.before ? { createdAt: { $lt: options.before } } : {}) },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: options.first, populate: ['actor'] },
    );
  }
}
