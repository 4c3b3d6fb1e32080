import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { User } from '../accounts/user.entity.js';
import { RegistryAuth } from '../credentials/registry-auth.entity.js';
import { Auth } from '../graphql/auth.js';
import { ConnectionArgs } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import { EnvVar } from './env-vars.js';
import { JobDefinition } from './job-definition.entity.js';
import {
  CreateJobDefinitionInput,
  DeactivateJobDefinitionInput,
  DeactivateJobDefinitionPayload,
  JobDefinitionConnection,
  JobDefinitionFilter,
  JobDefinitionPayload,
  UpdateJobDefinitionInput,
} from './job-definition.types.js';
import { loaded, loadedOrNull } from './load.js';
import { Project } from './project.entity.js';
import { Parameter, toParameters } from './workloads.types.js';

@Resolver(() => JobDefinition)
export class JobDefinitionResolver {
  @Auth('WRITE')
  @Mutation(() => JobDefinitionPayload, {
    description: 'Creates version 1 of a definition. MEMBER or higher.',
  })
  async createJobDefinition(
    @Arg('input') input: CreateJobDefinitionInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<JobDefinitionPayload> {
    const { definition, warnings } = await services.jobDefinitions.create(viewer!, input, client);
    return { jobDefinition: definition, warnings };
  }

  @Auth('WRITE')
  @Mutation(() => JobDefinitionPayload, {
    description: 'Writes the next version; jobs keep the version they were submitted with. MEMBER or higher.',
  })
  async updateJobDefinition(
    @Arg('input') input: UpdateJobDefinitionInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<JobDefinitionPayload> {
    const { definition, warnings } = await services.jobDefinitions.update(viewer!, input, client);
    return { jobDefinition: definition, warnings };
  }

  @Auth('WRITE')
  @Mutation(() => DeactivateJobDefinitionPayload, {
    description: 'Stops a version (or every version) from accepting new jobs. MEMBER or higher.',
  })
  async deactivateJobDefinition(
    @Arg('input') input: DeactivateJobDefinitionInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<DeactivateJobDefinitionPayload> {
    return { jobDefinitions: await services.jobDefinitions.deactivate(viewer!, input) };
  }

  @Auth('READ')
  @Query(() => JobDefinitionConnection, {
    description: "A project's definitions by name, each as its newest active version.",
  })
  jobDefinitions(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('filter', () => JobDefinitionFilter, { nullable: true }) filter: JobDefinitionFilter | undefined,
    @Args() page: ConnectionArgs,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobDefinitionConnection> {
    return services.jobDefinitions.list(viewer!, projectId, filter ?? new JobDefinitionFilter(), page);
  }

  @Auth('READ')
  @Query(() => JobDefinition, {
    description:
      'By id, or by reference: `project::name` (newest active version) or `project::name:version`.',
  })
  jobDefinition(
    @Arg('id', () => ID) id: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobDefinition> {
    return services.jobDefinitions.get(viewer!, id);
  }

  @Auth('READ')
  @Query(() => [JobDefinition], { description: 'Every version of a definition, newest first.' })
  jobDefinitionVersions(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('name') name: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobDefinition[]> {
    return services.jobDefinitions.versions(viewer!, projectId, name);
  }

  @FieldResolver(() => Project)
  project(@Root() definition: JobDefinition): Promise<Project> {
    return loaded(definition.project);
  }

  @FieldResolver(() => String, { description: 'The reference of this version: `project::name:version`.' })
  reference(@Root() definition: JobDefinition, @Ctx() { services }: GraphQLContext): Promise<string> {
    return services.jobDefinitions.reference(definition);
  }

  @FieldResolver(() => RegistryAuth, {
    nullable: true,
    description: 'DOCKER: the login the image is pulled with.',
  })
  registryAuth(@Root() definition: JobDefinition): Promise<RegistryAuth | null> {
    return loadedOrNull(definition.registryAuth);
  }

  @FieldResolver(() => [Parameter], { description: 'Default values of the `Param::<key>` placeholders.' })
  parameters(@Root() definition: JobDefinition): Parameter[] {
    return toParameters(definition.parameters);
  }

  @FieldResolver(() => [EnvVar], { description: 'Sensitive values are shown masked only.' })
  env(@Root() definition: JobDefinition, @Ctx() { services }: GraphQLContext): Promise<EnvVar[]> {
    return services.jobDefinitions.environment(definition);
  }

  @FieldResolver(() => User, { nullable: true })
  createdBy(@Root() definition: JobDefinition): Promise<User | null> {
    return loadedOrNull(definition.createdBy);
  }
}
