import { Arg, Ctx, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Public } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { ServerInfo, ServerTick } from './system.types.js';

@Resolver()
export class SystemResolver {
  // A health view with no tenant data, useful before sign-in.
  @Public()
  @Query(() => ServerInfo, { description: 'Version, uptime and database of this Daestro server.' })
  serverInfo(@Ctx() { services }: GraphQLContext): Promise<ServerInfo> {
    return services.system.serverInfo();
  }

  @Public()
  @Subscription(() => ServerTick, {
    description: 'Ticks every intervalMs milliseconds (100 to 60000) while subscribed.',
    subscribe: ({ args, context }) =>
      (context as GraphQLContext).services.system.ticks(args.intervalMs as number),
  })
  serverTicks(
    @Root() tick: ServerTick,
    @Arg('intervalMs', () => Int, { defaultValue: 1000 }) _intervalMs: number,
  ): ServerTick {
    return tick;
  }
}
