import { ApiToken } from '../accounts/api-token.entity.js';
import { EmailLink } from '../accounts/email-link.entity.js';
import { Invitation } from '../accounts/invitation.entity.js';
import { Membership } from '../accounts/membership.entity.js';
import { OAuthAttempt, OAuthSignUpTicket } from '../accounts/oauth-attempt.entity.js';
import { OAuthIdentity } from '../accounts/oauth-identity.entity.js';
import { Organization } from '../accounts/organization.entity.js';
import { Session } from '../accounts/session.entity.js';
import { User } from '../accounts/user.entity.js';
import { OutboxMessage } from '../mail/outbox-message.entity.js';
import { AuditEvent } from '../privacy/audit-event.entity.js';
import { Installation } from '../system/installation.entity.js';
import { Project } from '../workloads/project.entity.js';

/** Every entity, listed explicitly so discovery works the same compiled and under vitest. */
export const entities = [
  Installation,
  User,
  Session,
  EmailLink,
  OAuthIdentity,
  OAuthAttempt,
  OAuthSignUpTicket,
  Organization,
  Membership,
  Invitation,
  ApiToken,
  Project,
  AuditEvent,
  OutboxMessage,
];
