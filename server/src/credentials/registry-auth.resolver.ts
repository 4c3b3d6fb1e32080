import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { credentialFieldsResolver } from './credential-fields.js';
import {
  CreateRegistryAuthInput,
  CreateRegistryAuthPayload,
  DeleteRegistryAuthInput,
  DeleteRegistryAuthPayload,
} from './credentials.types.js';
import { RegistryAuth } from './registry-auth.entity.js';

@Resolver(() => RegistryAuth)
export class RegistryAuthResolver extends credentialFieldsResolver(RegistryAuth) {
  @Auth('READ')
  @Query(() => [RegistryAuth], { description: "A project's registry auths, by name." })
  registryAuths(
    @Arg('projectId', () => ID) projectId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<RegistryAuth[]> {
    return services.credentials.listRegistryAuths(viewer!, projectId);
  }

  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => CreateRegistryAuthPayload, {
    description: 'Stores a registry login encrypted; members and above.',
  })
  async createRegistryAuth(
    @Arg('input') input: CreateRegistryAuthInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<CreateRegistryAuthPayload> {
    return { registryAuth: await services.credentials.createRegistryAuth(viewer!, input, client) };
  }

  @Auth('WRITE')
  @Mutation(() => DeleteRegistryAuthPayload, {
    description: 'Deletes the login and destroys its key; refused while a job definition uses it.',
  })
  async deleteRegistryAuth(
    @Arg('input') input: DeleteRegistryAuthInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<DeleteRegistryAuthPayload> {
    await services.credentials.deleteRegistryAuth(viewer!, input.registryAuthId, client);
    return { deletedRegistryAuthId: input.registryAuthId };
  }
}
