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
import { AgentService } from './agents/agent.service.js';
import { LimitsService } from './billing/limits.service.js';
import type { CloudApiConfig } from './config.js';
import { CredentialService } from './credentials/credential.service.js';
import type { DaestroPubSub } from './graphql/pubsub.js';
import { LogRetentionService } from './logs/log-retention.service.js';
import { LogService } from './logs/log.service.js';
import type { RunFeeds } from './logs/run-feeds.js';
import { OutboxService } from './mail/outbox.service.js';
import { MetricService } from './metrics/metric.service.js';
import { AuditService } from './privacy/audit.service.js';
import { RunLifecycleService } from './scheduler/run-lifecycle.service.js';
import type { Keyring } from './secrets/keyring.js';
import { SecretService } from './secrets/secret.service.js';
import { SystemService, type ServerFacts } from './system/system.service.js';
import { ComputeEnvironmentService } from './workloads/compute-environment.service.js';
import { WorkloadCredentialUsers } from './workloads/credential-users.js';
import { CronScheduleService } from './workloads/cron-schedule.service.js';
import { EnvVars } from './workloads/env-vars.js';
import { JobDefinitionService } from './workloads/job-definition.service.js';
import { JobQueueService } from './workloads/job-queue.service.js';
import { JobService } from './workloads/job.service.js';
import { ProjectService } from './workloads/project.service.js';
import { WorkloadReferences } from './workloads/reference.js';

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
  /** Where new cloud auths are checked. */
  cloudApis: CloudApiConfig;
  /** Master keys for envelope encryption of stored secrets. */
  keyring: Keyring;
  /** An agent silent this long is LOST (each heartbeat renews its lease for this long). */
  agentLeaseSeconds: number;
  /** A run claimed this long ago and missing from its agent's heartbeat (heldRunIds) goes to ERROR. */
  agentClaimGraceSeconds: number;
  /** This process's live feeds of runs (log and metric subscriptions). */
  runFeeds: RunFeeds;
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
  secrets: SecretService;
  credentials: CredentialService;
  jobDefinitions: JobDefinitionService;
  jobQueues: JobQueueService;
  computeEnvironments: ComputeEnvironmentService;
  jobs: JobService;
  cronSchedules: CronScheduleService;
  /** What agents call about their runs: claim, running, finished, heartbeat. */
  runs: RunLifecycleService;
  /** Agent registration and the agent-facing operations. */
  agents: AgentService;
  logs: LogService;
  /** Log retention and storage quota (the purge jobs, usage against the plan). */
  logRetention: LogRetentionService;
  metrics: MetricService;
}

export function createServices(em: EntityManager, deps: ServiceDeps): Services {
  const audit = new AuditService(em);
  const projects = new ProjectService(em);
  const organizations = new OrganizationService(em, projects);
  const limits = new LimitsService();
  const sessions = new SessionService(em, deps.sessionPolicy, deps.pubSub, audit);
  const secrets = new SecretService(em, deps.keyring);
  const accounts = new AccountService(em, {
    hasher: deps.hasher,
    sessions,
    organizations,
    audit,
    mailer: deps.mailer,
    publicUrl: deps.publicUrl,
  });
  const credentials = new CredentialService(em, {
    organizations,
    limits,
    audit,
    secrets,
    users: new WorkloadCredentialUsers(em),
    cloudApis: deps.cloudApis,
  });
  const references = new WorkloadReferences(em, organizations);
  const envVars = new EnvVars(secrets);
  const jobDefinitions = new JobDefinitionService(em, { organizations, references, envVars, credentials });
  const jobs = new JobService(em, {
    organizations,
    references,
    envVars,
    definitions: jobDefinitions,
    limits,
    pubSub: deps.pubSub,
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
    secrets,
    credentials,
    jobDefinitions,
    jobQueues: new JobQueueService(em, { organizations, references }),
    computeEnvironments: new ComputeEnvironmentService(em, {
      organizations,
      references,
      credentials,
      limits,
      audit,
    }),
    jobs,
    cronSchedules: new CronScheduleService(em, { organizations, references, envVars, jobs, limits }),
    runs: new RunLifecycleService(em, {
      pubSub: deps.pubSub,
      secrets,
      agentLeaseSeconds: deps.agentLeaseSeconds,
      claimGraceSeconds: deps.agentClaimGraceSeconds,
    }),
    agents: new AgentService(em, {
      organizations,
      credentials,
      secrets,
      limits,
      throttle: deps.throttle,
      pubSub: deps.pubSub,
      leaseSeconds: deps.agentLeaseSeconds,
      claimGraceSeconds: deps.agentClaimGraceSeconds,
    }),
    logs: new LogService(em, { runs: jobs, pubSub: deps.pubSub, feeds: deps.runFeeds }),
    logRetention: new LogRetentionService(em),
    metrics: new MetricService(em, { runs: jobs, pubSub: deps.pubSub, feeds: deps.runFeeds }),
  };
}
