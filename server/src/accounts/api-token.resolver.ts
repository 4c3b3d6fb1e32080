import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import {
  CreateApiTokenInput,
  CreateApiTokenPayload,
  RevokeApiTokenInput,
  RevokeApiTokenPayload,
} from './accounts.types.js';
import { ApiToken } from './api-token.entity.js';

// Tokens are managed from a browser session: a leaked token must not be able to mint or keep others.
@Resolver()
export class ApiTokenResolver {
  @Auth('SESSION')
  @Query(() => [ApiToken], { description: "An organization's API tokens: admins see all, others their own." })
  apiTokens(
    @Arg('organizationId', () => ID) organizationId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<ApiToken[]> {
    return services.apiTokens.list(viewer!, organizationId);
  }

  @Auth('SESSION')
  @Mutation(() => CreateApiTokenPayload)
  async createApiToken(
    @Arg('input') input: CreateApiTokenInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<CreateApiTokenPayload> {
    const { token, secret } = await services.apiTokens.create(viewer!, input, client);
    return { apiToken: token, secret };
  }

  @Auth('SESSION')
  @Mutation(() => RevokeApiTokenPayload)
  async revokeApiToken(
    @Arg('input') input: RevokeApiTokenInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<RevokeApiTokenPayload> {
    return { apiToken: await services.apiTokens.revoke(viewer!, input.apiTokenId, client) };
  }
}
