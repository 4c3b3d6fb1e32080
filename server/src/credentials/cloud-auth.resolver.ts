import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { CloudAuth } from './cloud-auth.entity.js';
import { credentialFieldsResolver } from './credential-fields.js';
import {
  CreateCloudAuthInput,
  CreateCloudAuthPayload,
  DeleteCloudAuthInput,
  DeleteCloudAuthPayload,
} from './credentials.types.js';

@Resolver(() => CloudAuth)
export class CloudAuthResolver extends credentialFieldsResolver(CloudAuth) {
  @Auth('READ')
  @Query(() => [CloudAuth], { description: "A project's cloud auths, by name." })
  cloudAuths(
    @Arg('projectId', () => ID) projectId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<CloudAuth[]> {
    return services.credentials.listCloudAuths(viewer!, projectId);
  }

  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => CreateCloudAuthPayload, {
    description:
      'Checks the credentials with the provider (read-only) and stores them encrypted; members and above. ' +
      'Credentials the provider refuses are not stored.',
  })
  async createCloudAuth(
    @Arg('input') input: CreateCloudAuthInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<CreateCloudAuthPayload> {
    return { cloudAuth: await services.credentials.createCloudAuth(viewer!, input, client) };
  }

  @Auth('WRITE')
  @Mutation(() => DeleteCloudAuthPayload, {
    description:
      'Deletes the credentials and destroys their key; refused while a compute environment uses them.',
  })
  async deleteCloudAuth(
    @Arg('input') input: DeleteCloudAuthInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<DeleteCloudAuthPayload> {
    await services.credentials.deleteCloudAuth(viewer!, input.cloudAuthId, client);
    return { deletedCloudAuthId: input.cloudAuthId };
  }
}
