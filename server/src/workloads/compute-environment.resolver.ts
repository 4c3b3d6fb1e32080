import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CloudAuth } from '../credentials/cloud-auth.entity.js';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { ComputeEnvironment } from './compute-environment.entity.js';
import {
  ComputeEnvironmentPayload,
  ComputeEnvironmentRefInput,
  CreateComputeEnvironmentInput,
  DeleteComputeEnvironmentPayload,
} from './compute-environment.types.js';
import { ComputeSpawn } from './compute-spawn.entity.js';
import { JobQueue } from './job-queue.entity.js';
import { loaded, loadedOrNull } from './load.js';
import { Project } from './project.entity.js';

// Creating, rotating and deleting hand out or revoke credentials: organization owners and admins only.
@Resolver(() => ComputeEnvironment)
export class ComputeEnvironmentResolver {
  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => ComputeEnvironmentPayload, {
    description: 'Owners and admins. SELF_HOSTED returns its registration token this once.',
  })
  async createComputeEnvironment(
    @Arg('input') input: CreateComputeEnvironmentInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<ComputeEnvironmentPayload> {
    const { environment, registrationToken } = await services.computeEnvironments.create(
      viewer!,
      input,
      client,
    );
    return { computeEnvironment: environment, registrationToken };
  }

  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => ComputeEnvironmentPayload, {
    description:
      'Owners and admins. A new registration token, returned this once; the old one stops working.',
  })
  async rotateRegistrationToken(
    @Arg('input') input: ComputeEnvironmentRefInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<ComputeEnvironmentPayload> {
    const { environment, registrationToken } = await services.computeEnvironments.rotateRegistrationToken(
      viewer!,
      input.computeEnvironment,
      client,
    );
    return { computeEnvironment: environment, registrationToken };
  }

  @Auth('WRITE')
  @Mutation(() => DeleteComputeEnvironmentPayload, {
    description:
      'Owners and admins. Refused while a queue links the environment or a job runs on it; its finished runs ' +
      'keep where they ran by name (JobRun.spawnHostname, JobRun.computeEnvironmentName).',
  })
  async deleteComputeEnvironment(
    @Arg('input') input: ComputeEnvironmentRefInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<DeleteComputeEnvironmentPayload> {
    return {
      deletedComputeEnvironmentId: await services.computeEnvironments.delete(
        viewer!,
        input.computeEnvironment,
        client,
      ),
    };
  }

  @Auth('READ')
  @Query(() => [ComputeEnvironment], { description: "A project's compute environments by name." })
  computeEnvironments(
    @Arg('projectId', () => ID) projectId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<ComputeEnvironment[]> {
    return services.computeEnvironments.list(viewer!, projectId);
  }

  @Auth('READ')
  @Query(() => ComputeEnvironment, { description: 'By id or by reference `project::name`.' })
  computeEnvironment(
    @Arg('id', () => ID) id: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<ComputeEnvironment> {
    return services.computeEnvironments.get(viewer!, id);
  }

  @FieldResolver(() => Project)
  project(@Root() environment: ComputeEnvironment): Promise<Project> {
    return loaded(environment.project);
  }

  @FieldResolver(() => String, { description: '`project::name`' })
  reference(@Root() environment: ComputeEnvironment, @Ctx() { services }: GraphQLContext): Promise<string> {
    return services.computeEnvironments.reference(environment);
  }

  @FieldResolver(() => CloudAuth, {
    nullable: true,
    description: 'CLOUD: the credentials VMs are started with.',
  })
  cloudAuth(@Root() environment: ComputeEnvironment): Promise<CloudAuth | null> {
    return loadedOrNull(environment.cloudAuth);
  }

  @FieldResolver(() => [ComputeSpawn], { description: 'Its machines (agents or VMs), newest first.' })
  spawns(
    @Root() environment: ComputeEnvironment,
    @Arg('includeTerminated', { defaultValue: false }) includeTerminated: boolean,
    @Ctx() { services }: GraphQLContext,
  ): Promise<ComputeSpawn[]> {
    return services.computeEnvironments.spawns(environment, includeTerminated);
  }

  @FieldResolver(() => [JobQueue], { description: 'The queues that place runs here.' })
  queues(@Root() environment: ComputeEnvironment, @Ctx() { services }: GraphQLContext): Promise<JobQueue[]> {
    return services.computeEnvironments.linkedQueues(environment);
  }
}
