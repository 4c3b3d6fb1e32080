import { ApiToken } from '../accounts/api-token.entity.js';
import { EmailLink } from '../accounts/email-link.entity.js';
import { Invitation } from '../accounts/invitation.entity.js';
import { Membership } from '../accounts/membership.entity.js';
import { OAuthAttempt, OAuthSignUpTicket } from '../accounts/oauth-attempt.entity.js';
import { OAuthIdentity } from '../accounts/oauth-identity.entity.js';
import { Organization } from '../accounts/organization.entity.js';
import { Session } from '../accounts/session.entity.js';
import { User } from '../accounts/user.entity.js';
import { CloudAuth } from '../credentials/cloud-auth.entity.js';
import { RegistryAuth } from '../credentials/registry-auth.entity.js';
import { RunLogChunk } from '../logs/run-log-chunk.entity.js';
import { OutboxMessage } from '../mail/outbox-message.entity.js';
import { RunMetricSample } from '../metrics/run-metric-sample.entity.js';
import { AuditEvent } from '../privacy/audit-event.entity.js';
import { DataKey } from '../secrets/data-key.entity.js';
import { Installation } from '../system/installation.entity.js';
import { ComputeEnvironment } from '../workloads/compute-environment.entity.js';
import { ComputeSpawn } from '../workloads/compute-spawn.entity.js';
import { CronFire, CronSchedule } from '../workloads/cron-schedule.entity.js';
import { JobDefinition } from '../workloads/job-definition.entity.js';
import { JobQueue, JobQueueLink } from '../workloads/job-queue.entity.js';
import { JobRun } from '../workloads/job-run.entity.js';
import { Job } from '../workloads/job.entity.js';
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
  CloudAuth,
  RegistryAuth,
  AuditEvent,
  OutboxMessage,
  DataKey,
  JobDefinition,
  JobQueue,
  JobQueueLink,
  ComputeEnvironment,
  ComputeSpawn,
  Job,
  JobRun,
  CronSchedule,
  CronFire,
  RunLogChunk,
  RunMetricSample,
];
