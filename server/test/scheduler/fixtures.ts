import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll } from 'vitest';
import { Organization } from '../../src/accounts/organization.entity.js';
import { LimitsService } from '../../src/billing/limits.service.js';
import { PlanCode } from '../../src/billing/plans.js';
import { initOrm, type MikroORM } from '../../src/db/orm.js';
import { createDaestroPubSub, type DaestroPubSub } from '../../src/graphql/pubsub.js';
import { createLogger } from '../../src/logger.js';
import { Keyring } from '../../src/secrets/keyring.js';
import { generateMasterKey } from '../../src/secrets/master-keys.js';
import { SecretService } from '../../src/secrets/secret.service.js';
import { RunLifecycleService } from '../../src/scheduler/run-lifecycle.service.js';
import {
  ComputeEnvironment,
  ComputeEnvironmentKind,
} from '../../src/workloads/compute-environment.entity.js';
import { ComputeSpawn, ComputeSpawnState } from '../../src/workloads/compute-spawn.entity.js';
import { CronOverlapPolicy, CronSchedule } from '../../src/workloads/cron-schedule.entity.js';
import { envSlot } from '../../src/workloads/env-vars.js';
import {
  BackoffKind,
  JobDefinition,
  JobDefinitionType,
  type RetryPolicy,
  type StoredEnvVar,
} from '../../src/workloads/job-definition.entity.js';
import { JobQueue, JobQueueLink } from '../../src/workloads/job-queue.entity.js';
import { FailureClass, JobState } from '../../src/workloads/job-state.js';
import type { JobEvent } from '../../src/workloads/job-transitions.js';
import { Job, type JobOverrides } from '../../src/workloads/job.entity.js';
import { Project } from '../../src/workloads/project.entity.js';
import { useTestDatabase } from '../../../test/support/database.js';

export const silentLog = createLogger('silent');

/** No retries: one attempt. */
export const NO_RETRY: RetryPolicy = {
  attempts: 1,
  backoff: BackoffKind.FIXED,
  baseSeconds: 1,
  capSeconds: 1,
  jitter: false,
  retryOn: [],
  exitCodes: [],
};

let names = 0;
const uniqueName = (prefix: string) => `${prefix}-${++names}`;

/** This test file's database, an ORM on it (closed after the file), a keyring and a pubsub. */
export async function openSchedulerTestbed(): Promise<Testbed> {
  const url = await useTestDatabase();
  const orm = await initOrm(url);
  afterAll(() => orm.close(true));
  return new Testbed(url, orm);
}

/** Rows for scheduler tests, inserted through the entities, plus the services under test. */
export class Testbed {
  readonly pubSub: DaestroPubSub = createDaestroPubSub();
  readonly keyring = Keyring.fromKeys([generateMasterKey()]);
  readonly limits = new LimitsService();

  private readonly jobEventRecorders: JobEvent[][] = [];
  private readonly wakeupRecorders: string[][] = [];

  constructor(
    readonly url: string,
    readonly orm: MikroORM,
  ) {
    const publish = this.pubSub.publish.bind(this.pubSub) as (...args: unknown[]) => void;
    this.pubSub.publish = ((...args: unknown[]) => {
      if (args[0] === 'job.event')
        for (const events of this.jobEventRecorders) events.push(args[2] as JobEvent);
      if (args[0] === 'agent.wakeup')
        for (const spawnIds of this.wakeupRecorders) spawnIds.push(args[1] as string);
      publish(...args);
    }) as DaestroPubSub['publish'];
  }

  get em(): EntityManager {
    return this.orm.em.fork();
  }

  secretsFor = (em: EntityManager) => new SecretService(em, this.keyring);

  lifecycle(
    options: { agentLeaseSeconds?: number; claimGraceSeconds?: number; random?: () => number } = {},
  ): RunLifecycleService {
    return new RunLifecycleService(this.orm.em.fork(), {
      pubSub: this.pubSub,
      secrets: this.secretsFor(this.orm.em.fork()),
      agentLeaseSeconds: options.agentLeaseSeconds ?? 30,
      claimGraceSeconds: options.claimGraceSeconds ?? 30,
      ...(options.random && { random: options.random }),
    });
  }

  /** Every job event published from now on. */
  recordJobEvents(): JobEvent[] {
    const events: JobEvent[] = [];
    this.jobEventRecorders.push(events);
    return events;
  }

  /** Every agent wake-up published from now on (spawn ids). */
  recordWakeups(): string[] {
    const spawnIds: string[] = [];
    this.wakeupRecorders.push(spawnIds);
    return spawnIds;
  }

  async project(plan: PlanCode = PlanCode.TEAM): Promise<Project> {
    const em = this.em;
    const organization = em.create(Organization, { name: uniqueName('org'), plan });
    const project = em.create(Project, { organization, code: 'default', name: 'Default' });
    await em.flush();
    return project;
  }

  async definition(
    project: Project,
    fields: Partial<Pick<JobDefinition, 'command' | 'parameters' | 'timeoutSeconds' | 'retryPolicy'>> & {
      env?: { name: string; value: string; sensitive?: boolean }[];
    } = {},
  ): Promise<JobDefinition> {
    const em = this.em;
    const definition = em.create(JobDefinition, {
      project: em.getReference(Project, project.id),
      name: uniqueName('def'),
      version: 1,
      type: JobDefinitionType.BASH,
      script: 'true',
      command: fields.command ?? [],
      parameters: fields.parameters ?? {},
      env: [],
      cpu: 0.5,
      memoryMiB: 256,
      timeoutSeconds: fields.timeoutSeconds ?? 0,
      retryPolicy: fields.retryPolicy ?? NO_RETRY,
      privileged: false,
    });
    definition.env = await this.seal('job_definition', definition.id, fields.env ?? []);
    await em.flush();
    return definition;
  }

  async environment(project: Project, slotsPerSpawn = 4): Promise<ComputeEnvironment> {
    const em = this.em;
    const environment = em.create(ComputeEnvironment, {
      project: em.getReference(Project, project.id),
      name: uniqueName('env'),
      kind: ComputeEnvironmentKind.SELF_HOSTED,
      slotsPerSpawn,
    });
    await em.flush();
    return environment;
  }

  /** An ONLINE spawn with a lease an hour long unless told otherwise. */
  async spawn(
    environment: ComputeEnvironment,
    fields: {
      slots?: number;
      state?: ComputeSpawnState;
      leaseExpiresAt?: Date | null;
      hostname?: string;
    } = {},
  ): Promise<ComputeSpawn> {
    const em = this.em;
    const spawn = em.create(ComputeSpawn, {
      computeEnvironment: em.getReference(ComputeEnvironment, environment.id),
      state: fields.state ?? ComputeSpawnState.ONLINE,
      hostname: fields.hostname ?? uniqueName('host'),
      slots: fields.slots ?? environment.slotsPerSpawn,
      lastHeartbeatAt: new Date(),
      leaseExpiresAt:
        fields.leaseExpiresAt === null
          ? undefined
          : (fields.leaseExpiresAt ?? new Date(Date.now() + 3_600_000)),
    });
    await em.flush();
    return spawn;
  }

  /** An enabled queue linked to `environments` in that order. */
  async queue(
    project: Project,
    environments: ComputeEnvironment[],
    fields: { priority?: number; maxConcurrency?: number; enabled?: boolean } = {},
  ): Promise<JobQueue> {
    const em = this.em;
    const queue = em.create(JobQueue, {
      project: em.getReference(Project, project.id),
      name: uniqueName('queue'),
      priority: fields.priority ?? 100,
      maxConcurrency: fields.maxConcurrency ?? 0,
      maxIdleSeconds: 300,
      enabled: fields.enabled ?? true,
    });
    environments.forEach((environment, position) =>
      em.create(JobQueueLink, {
        queue,
        computeEnvironment: em.getReference(ComputeEnvironment, environment.id),
        position,
      }),
    );
    await em.flush();
    return queue;
  }

  async job(
    queue: JobQueue,
    definition: JobDefinition,
    fields: {
      state?: JobState;
      scheduleAt?: Date;
      retryAt?: Date;
      createdAt?: Date;
      overrides?: Partial<Omit<JobOverrides, 'env'>>;
      env?: { name: string; value: string; sensitive?: boolean }[];
      schedule?: CronSchedule;
    } = {},
  ): Promise<Job> {
    const em = this.em;
    const job = em.create(Job, {
      project: em.getReference(Project, definition.project.id),
      queue: em.getReference(JobQueue, queue.id),
      definition: em.getReference(JobDefinition, definition.id),
      name: uniqueName('job'),
      overrides: { parameters: {}, env: [], ...fields.overrides },
      state: fields.state ?? JobState.SUBMITTED,
      scheduleAt: fields.scheduleAt,
      retryAt: fields.retryAt,
      ...(fields.createdAt && { createdAt: fields.createdAt }),
      ...(fields.schedule && { createdBySchedule: em.getReference(CronSchedule, fields.schedule.id) }),
    });
    job.overrides.env = await this.seal('job', job.id, fields.env ?? []);
    await em.flush();
    return job;
  }

  async jobs(queue: JobQueue, definition: JobDefinition, count: number): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let i = 0; i < count; i += 1) jobs.push(await this.job(queue, definition));
    return jobs;
  }

  async schedule(
    queue: JobQueue,
    definition: JobDefinition,
    fields: { expression?: string; timezone?: string; overlapPolicy?: CronOverlapPolicy; nextFireAt: Date },
  ): Promise<CronSchedule> {
    const em = this.em;
    const schedule = em.create(CronSchedule, {
      project: em.getReference(Project, definition.project.id),
      name: uniqueName('nightly'),
      expression: fields.expression ?? '* * * * *',
      timezone: fields.timezone ?? 'UTC',
      overlapPolicy: fields.overlapPolicy ?? CronOverlapPolicy.ALLOW,
      definition: em.getReference(JobDefinition, definition.id),
      queue: em.getReference(JobQueue, queue.id),
      overrides: { parameters: {}, env: [] },
      nextFireAt: fields.nextFireAt,
    });
    await em.flush();
    return schedule;
  }

  async seal(
    owner: 'job_definition' | 'job' | 'cron_schedule',
    ownerId: string,
    vars: { name: string; value: string; sensitive?: boolean }[],
  ): Promise<StoredEnvVar[]> {
    const secrets = this.secretsFor(this.em);
    const stored: StoredEnvVar[] = [];
    for (const variable of vars) {
      stored.push({
        name: variable.name,
        sensitive: variable.sensitive ?? false,
        value: await secrets.seal(envSlot(owner, ownerId, variable.name), variable.value),
      });
    }
    return stored;
  }

  async jobState(jobId: string): Promise<JobState> {
    return (await this.em.findOneOrFail(Job, { id: jobId })).state;
  }

  async jobStates(jobIds: readonly string[]): Promise<JobState[]> {
    const jobs = await this.em.find(Job, { id: { $in: [...jobIds] } });
    const byId = new Map(jobs.map((job) => [job.id, job.state]));
    return jobIds.map((id) => byId.get(id)!);
  }

  async sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
    return this.em.execute<T[]>(query, params);
  }
}

/** A retry policy for tests: FIXED unless told, no jitter. */
export function retryPolicy(fields: Partial<RetryPolicy>): RetryPolicy {
  return {
    attempts: 3,
    backoff: BackoffKind.FIXED,
    baseSeconds: 10,
    capSeconds: 60,
    jitter: false,
    retryOn: [FailureClass.APP_FAILURE, FailureClass.INFRA_FAILURE, FailureClass.TIMEOUT],
    exitCodes: [],
    ...fields,
  };
}
