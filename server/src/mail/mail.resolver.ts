import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { OutboxMessageType } from './mail.types.js';

@Resolver()
export class MailResolver {
  // A person reads only mail sent to their own address, and only from a browser session.
  @Auth('SESSION')
  @Query(() => [OutboxMessageType], {
    description:
      'The newest messages the development outbox kept for the signed-in user, newest first (1 to 100). ' +
      'Empty when mail goes through Resend or SMTP.',
  })
  devOutbox(
    @Ctx() { viewer, services }: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
  ): Promise<OutboxMessageType[]> {
    return services.outbox.list({ to: [viewer!.email], first });
  }
}
