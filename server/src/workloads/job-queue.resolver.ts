import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { ComputeEnvironment } from './compute-environment.entity.js';
import { JobQueue } from './job-queue.entity.js';
import {
  CreateJobQueueInput,
  DeleteJobQueueInput,
  DeleteJobQueuePayload,
  JobQueuePayload,
  SetJobQueueComputeEnvironmentsInput,
  SetJobQueueEnabledInput,
  UpdateJobQueueInput,
} from './job-queue.types.js';
import { loaded } from './load.js';
import { Project } from './project.entity.js';

// Reads need VIEWER and the READ scope; changes MEMBER and WRITE.
@Resolver(() => JobQueue)
export class JobQueueResolver {
  @Auth('WRITE')
  @Mutation(() => JobQueuePayload, {
    description: 'Creates a queue, disabled until it has a compute environment.',
  })
  async createJobQueue(
    @Arg('input') input: CreateJobQueueInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobQueuePayload> {
    return { jobQueue: await services.jobQueues.create(viewer!, input) };
  }

  @Auth('WRITE')
  @Mutation(() => JobQueuePayload)
  async updateJobQueue(
    @Arg('input') input: UpdateJobQueueInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobQueuePayload> {
    return { jobQueue: await services.jobQueues.update(viewer!, input) };
  }

  @Auth('WRITE')
  @Mutation(() => JobQueuePayload, {
    description: 'Enabling needs at least one linked compute environment (CONFLICT otherwise).',
  })
  async setJobQueueEnabled(
    @Arg('input') input: SetJobQueueEnabledInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobQueuePayload> {
    return { jobQueue: await services.jobQueues.setEnabled(viewer!, input) };
  }

  @Auth('WRITE')
  @Mutation(() => JobQueuePayload, {
    description: 'Links compute environments in placement order; unlinking the last one disables the queue.',
  })
  async setJobQueueComputeEnvironments(
    @Arg('input') input: SetJobQueueComputeEnvironmentsInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobQueuePayload> {
    return { jobQueue: await services.jobQueues.setComputeEnvironments(viewer!, input) };
  }

  @Auth('WRITE')
  @Mutation(() => DeleteJobQueuePayload, {
    description:
      'Refused while jobs are unfinished or schedules use the queue; its finished jobs are deleted with it.',
  })
  async deleteJobQueue(
    @Arg('input') input: DeleteJobQueueInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<DeleteJobQueuePayload> {
    return { deletedJobQueueId: await services.jobQueues.delete(viewer!, input.queue) };
  }

  @Auth('READ')
  @Query(() => [JobQueue], { description: "A project's queues by priority." })
  jobQueues(
    @Arg('projectId', () => ID) projectId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobQueue[]> {
    return services.jobQueues.list(viewer!, projectId);
  }

  @Auth('READ')
  @Query(() => JobQueue, { description: 'By id or by reference `project::name`.' })
  jobQueue(@Arg('id', () => ID) id: string, @Ctx() { viewer, services }: GraphQLContext): Promise<JobQueue> {
    return services.jobQueues.get(viewer!, id);
  }

  @FieldResolver(() => Project)
  project(@Root() queue: JobQueue): Promise<Project> {
    return loaded(queue.project);
  }

  @FieldResolver(() => String, { description: '`project::name`' })
  reference(@Root() queue: JobQueue, @Ctx() { services }: GraphQLContext): Promise<string> {
    return services.jobQueues.reference(queue);
  }

  @FieldResolver(() => [ComputeEnvironment], {
    description: 'Where its runs are placed, in the order tried.',
  })
  computeEnvironments(
    @Root() queue: JobQueue,
    @Ctx() { services }: GraphQLContext,
  ): Promise<ComputeEnvironment[]> {
    return services.jobQueues.computeEnvironments(queue);
  }
}
