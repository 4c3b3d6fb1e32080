import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('OutboxMessage', {
  description:
    'A message the development outbox kept instead of sending (no mail provider is configured). ' +
    'Only messages addressed to the signed-in user are visible.',
})
export class OutboxMessageType {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The recipient address, lower-cased.' })
  to!: string;

  @Field()
  subject!: string;

  @Field({ description: 'The plain-text part.' })
  text!: string;

  @Field({ description: 'The HTML part; render it sandboxed (e.g. an iframe without scripts).' })
  html!: string;

  @Field({ description: 'When the message was stored.' })
  createdAt!: Date;
}
