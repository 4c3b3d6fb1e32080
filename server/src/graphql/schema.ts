import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AccountResolver, ProfileResolver, UserFieldsResolver } from '../accounts/account.resolver.js';
import { ApiTokenResolver } from '../accounts/api-token.resolver.js';
import { MembershipResolver } from '../accounts/membership.resolver.js';
import { OAuthResolver } from '../accounts/oauth.resolver.js';
import { OrganizationResolver } from '../accounts/organization.resolver.js';
import { SessionResolver } from '../accounts/session.resolver.js';
import { AgentResolver } from '../agents/agent.resolver.js';
import { CloudAuthResolver } from '../credentials/cloud-auth.resolver.js';
import { RegistryAuthResolver } from '../credentials/registry-auth.resolver.js';
import { JobRunLogFieldsResolver, LogResolver } from '../logs/log.resolver.js';
import { MailResolver } from '../mail/mail.resolver.js';
import { MetricResolver } from '../metrics/metric.resolver.js';
import { AuditResolver } from '../privacy/audit.resolver.js';
import { SystemResolver } from '../system/system.resolver.js';
import { ComputeEnvironmentResolver } from '../workloads/compute-environment.resolver.js';
import { CronScheduleResolver } from '../workloads/cron-schedule.resolver.js';
import { JobDefinitionResolver } from '../workloads/job-definition.resolver.js';
import { JobQueueResolver } from '../workloads/job-queue.resolver.js';
import { JobEventResolver, JobResolver, JobRunResolver } from '../workloads/job.resolver.js';
import { authChecker } from './auth.js';
import { createDaestroPubSub, type DaestroPubSub } from './pubsub.js';

/** Every resolver the server serves; schema.graphql is printed from this same list. */
const resolvers = [
  SystemResolver,
  AccountResolver,
  ProfileResolver,
  UserFieldsResolver,
  SessionResolver,
  OAuthResolver,
  OrganizationResolver,
  MembershipResolver,
  ApiTokenResolver,
  CloudAuthResolver,
  RegistryAuthResolver,
  AuditResolver,
  MailResolver,
  JobDefinitionResolver,
  JobQueueResolver,
  ComputeEnvironmentResolver,
  JobResolver,
  JobRunResolver,
  JobEventResolver,
  CronScheduleResolver,
  AgentResolver,
  LogResolver,
  JobRunLogFieldsResolver,
  MetricResolver,
] as const;

export function buildDaestroSchema(pubSub: DaestroPubSub = createDaestroPubSub()): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, pubSub, validate: true, authChecker, authMode: 'error' });
}

const SCHEMA_FILE_HEADER = `# Generated from the server's resolvers by \`pnpm gen\`; do not edit.
# A test fails when this file and the code disagree.
`;

/** The committed schema.graphql: sorted, so diffs show real changes only. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `${SCHEMA_FILE_HEADER}\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
