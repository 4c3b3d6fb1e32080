import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import { User } from '../accounts/user.entity.js';
import { Auth } from '../graphql/auth.js';
import { ConnectionArgs } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import { WaitingReason } from '../scheduler/waiting-reason.js';
import { ComputeSpawn } from './compute-spawn.entity.js';
import { CronSchedule } from './cron-schedule.entity.js';
import { EnvVar } from './env-vars.js';
import { JobDefinition } from './job-definition.entity.js';
import { JobQueue } from './job-queue.entity.js';
import { JobRun } from './job-run.entity.js';
import type { JobEvent } from './job-transitions.js';
import {
  JobConnection,
  JobEventFilter,
  JobEventType,
  JobFilter,
  JobPayload,
  JobRefInput,
  JobStateCount,
  SubmitJobInput,
} from './job.types.js';
import { Job } from './job.entity.js';
import { loaded, loadedOrNull } from './load.js';
import { Project } from './project.entity.js';
import { Parameter, toParameters } from './workloads.types.js';

@Resolver(() => Job)
export class JobResolver {
  // VERIFIED: no job runs for an account whose email is unproven (DESIGN.md §7).
  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => JobPayload, {
    description: 'Submits a job (SUBMITTED); the scheduler takes it from there.',
  })
  async submitJob(
    @Arg('input') input: SubmitJobInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobPayload> {
    return { job: await services.jobs.submit(viewer!, input) };
  }

  @Auth('WRITE')
  @Mutation(() => JobPayload, {
    description:
      'From any unfinished state: a job with no run yet is CANCELLED at once; a starting or running one is ' +
      'CANCELLING until its agent stops it.',
  })
  async cancelJob(
    @Arg('input') input: JobRefInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobPayload> {
    return { job: await services.jobs.cancel(viewer!, input.job) };
  }

  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => JobPayload, {
    description: 'A new job from a finished one, with the same definition version and overrides.',
  })
  async resubmitJob(
    @Arg('input') input: JobRefInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobPayload> {
    return { job: await services.jobs.resubmit(viewer!, input.job) };
  }

  @Auth('READ')
  @Query(() => JobConnection, { description: "A project's jobs, newest first." })
  jobs(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('filter', () => JobFilter, { nullable: true }) filter: JobFilter | undefined,
    @Args() page: ConnectionArgs,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobConnection> {
    return services.jobs.list(viewer!, projectId, filter ?? new JobFilter(), page);
  }

  @Auth('READ')
  @Query(() => [JobStateCount], {
    description: "How many of a project's jobs are in each state (states with none are left out).",
  })
  jobStateCounts(
    @Arg('projectId', () => ID) projectId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobStateCount[]> {
    return services.jobs.stateCounts(viewer!, projectId);
  }

  @Auth('READ')
  @Query(() => Job)
  job(@Arg('id', () => ID) id: string, @Ctx() { viewer, services }: GraphQLContext): Promise<Job> {
    return services.jobs.get(viewer!, id);
  }

  @Auth('READ')
  @Query(() => JobRun)
  jobRun(@Arg('id', () => ID) id: string, @Ctx() { viewer, services }: GraphQLContext): Promise<JobRun> {
    return services.jobs.getRun(viewer!, id);
  }

  @Auth('READ')
  @Subscription(() => JobEventType, {
    description: "Every state change of a project's jobs, as it is committed.",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, JobEventsArgs, GraphQLContext>) =>
      context.services.jobs.events(context.viewer!, args.projectId, args.filter ?? {}),
  })
  jobEvents(
    @Root() event: JobEvent,
    @Arg('projectId', () => ID) _projectId: string,
    @Arg('filter', () => JobEventFilter, { nullable: true }) _filter: JobEventFilter | undefined,
  ): JobEventType {
    return { ...event, at: new Date(event.at) };
  }

  @FieldResolver(() => Project)
  project(@Root() job: Job): Promise<Project> {
    return loaded(job.project);
  }

  @FieldResolver(() => JobQueue)
  queue(@Root() job: Job): Promise<JobQueue> {
    return loaded(job.queue);
  }

  @FieldResolver(() => JobDefinition, { description: 'The definition version the job is pinned to.' })
  definition(@Root() job: Job): Promise<JobDefinition> {
    return loaded(job.definition);
  }

  @FieldResolver(() => [JobRun], { description: 'Its attempts, first first.' })
  runs(@Root() job: Job, @Ctx() { services }: GraphQLContext): Promise<JobRun[]> {
    return services.jobs.runs(job);
  }

  @FieldResolver(() => Boolean, { description: 'The job is unfinished and you may cancel it.' })
  canCancel(@Root() job: Job, @Ctx() { viewer, services }: GraphQLContext): Promise<boolean> {
    return services.jobs.canCancel(viewer!, job);
  }

  @FieldResolver(() => Boolean, {
    description: 'The job is finished, its definition version still active, and you may resubmit it.',
  })
  canResubmit(@Root() job: Job, @Ctx() { viewer, services }: GraphQLContext): Promise<boolean> {
    return services.jobs.canResubmit(viewer!, job);
  }

  @FieldResolver(() => WaitingReason, {
    nullable: true,
    description: 'Why the job has not started yet; null when it is not waiting.',
  })
  waitingReason(@Root() job: Job, @Ctx() { services }: GraphQLContext): Promise<WaitingReason | null> {
    return services.jobs.waitingReason(job);
  }

  @FieldResolver(() => [String], { description: 'The command its runs get, placeholders filled in.' })
  command(@Root() job: Job, @Ctx() { services }: GraphQLContext): Promise<string[]> {
    return services.jobs.command(job);
  }

  @FieldResolver(() => [String], {
    nullable: true,
    description: "The command given at submit, replacing the definition's; null when none was.",
  })
  commandOverride(@Root() job: Job): string[] | null {
    return job.overrides.command ?? null;
  }

  @FieldResolver(() => [Parameter], {
    description: "The definition's defaults with the job's values on top.",
  })
  async parameters(@Root() job: Job, @Ctx() { services }: GraphQLContext): Promise<Parameter[]> {
    return toParameters(await services.jobs.parameters(job));
  }

  @FieldResolver(() => [EnvVar], {
    description: "The definition's variables with the job's overrides on top; sensitive values only masked.",
  })
  environment(@Root() job: Job, @Ctx() { services }: GraphQLContext): Promise<EnvVar[]> {
    return services.jobs.environment(job);
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who submitted it (or created its schedule).' })
  createdBy(@Root() job: Job): Promise<User | null> {
    return loadedOrNull(job.createdBy);
  }

  @FieldResolver(() => CronSchedule, {
    nullable: true,
    description: 'The schedule that submitted it, if any.',
  })
  createdBySchedule(@Root() job: Job): Promise<CronSchedule | null> {
    return loadedOrNull(job.createdBySchedule);
  }

  @FieldResolver(() => Job, { nullable: true, description: 'The job this one resubmits.' })
  resubmittedFrom(@Root() job: Job): Promise<Job | null> {
    return loadedOrNull(job.resubmittedFrom);
  }
}

interface JobEventsArgs {
  projectId: string;
  filter?: JobEventFilter | null;
}

@Resolver(() => JobRun)
export class JobRunResolver {
  @FieldResolver(() => Job)
  job(@Root() run: JobRun): Promise<Job> {
    return loaded(run.job);
  }

  @FieldResolver(() => ComputeSpawn, {
    nullable: true,
    description:
      'The machine it ran on; null once its compute environment was deleted (spawnHostname and ' +
      'computeEnvironmentName still say where it ran).',
  })
  spawn(@Root() run: JobRun): Promise<ComputeSpawn | null> {
    return loadedOrNull(run.spawn);
  }
}

@Resolver(() => JobEventType)
export class JobEventResolver {
  @FieldResolver(() => Job, { nullable: true, description: 'The job as it is now (null once deleted).' })
  job(@Root() event: JobEventType, @Ctx() { services }: GraphQLContext): Promise<Job | null> {
    return services.jobs.eventJob(event.jobId);
  }
}
