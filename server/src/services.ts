import type { EntityManager } from '@mikro-orm/postgresql';
import { AccountService, type AccountMailer } from './accounts/account.service.js';
import { ApiTokenService } from './accounts/api-token.service.js';
import { MembershipService, type InvitationMailer } from './accounts/membership.service.js';
import type { OAuthProvider } from './accounts/oauth-providers.js';
import { OAuthService } from './accounts/oauth.service.js';
import { OrganizationService } from './accounts/organization.service.js';
import type { PasswordHasher } from './accounts/password-hasher.js';
import { SessionService, type SessionPolicy } from './accounts/session.service.js';
import type { Throttle } from './accounts/throttle.js';
import { LimitsService } from './billing/limits.service.js';
import type { DaestroPubSub } from './graphql/pubsub.js';
import { OutboxService } from './mail/outbox.service.js';
import { AuditService } from './privacy/audit.service.js';
import { SystemService, type ServerFacts } from './system/system.service.js';
import { ProjectService } from './workloads/project.service.js';

/** Long-lived dependencies shared by every operation. */
export interface ServiceDeps {
  facts: ServerFacts;
  pubSub: DaestroPubSub;
  hasher: PasswordHasher;
  throttle: Throttle;
  mailer: AccountMailer & InvitationMailer;
  publicUrl: string;
  sessionPolicy: SessionPolicy;
  /** Sign-in with GitHub / Google: the configured providers only. */
  oauthProviders: readonly OAuthProvider[];
}

/** Each domain's service, bound to one operation's EntityManager fork. */
export interface Services {
  system: SystemService;
  accounts: AccountService;
  sessions: SessionService;
  oauth: OAuthService;
  organizations: OrganizationService;
  memberships: MembershipService;
  apiTokens: ApiTokenService;
  projects: ProjectService;
  audit: AuditService;
  limits: LimitsService;
  outbox: OutboxService;
  throttle: Throttle;
}

export function createServices(em: EntityManager, deps: ServiceDeps): Services {
  const audit = new AuditService(em);
  const projects = new ProjectService(em);
  const organizations = new OrganizationService(em, projects);
  const limits = new LimitsService();
  const sessions = new SessionService(em, deps.sessionPolicy, deps.pubSub, audit);
  const accounts = new AccountService(em, {
    hasher: deps.hasher,
    sessions,
    organizations,
    audit,
    mailer: deps.mailer,
    publicUrl: deps.publicUrl,
  });
  return {
    system: new SystemService(em, deps.facts),
    accounts,
    sessions,
    oauth: new OAuthService(em, { providers: deps.oauthProviders, accounts, sessions, audit }),
    organizations,
    memberships: new MembershipService(em, {
      organizations,
      projects,
      audit,
      limits,
      mailer: deps.mailer,
      publicUrl: deps.publicUrl,
    }),
    apiTokens: new ApiTokenService(em, organizations, projects, audit, deps.pubSub),
    projects,
    audit,
    limits,
    outbox: new OutboxService(em),
    throttle: deps.throttle,
  };
}
