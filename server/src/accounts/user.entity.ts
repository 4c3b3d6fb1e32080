import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';

/** A person who signs in. "user" is reserved in PostgreSQL, hence the table name. */
@ObjectType({ description: 'A person with a Daestro account.' })
@Entity({ tableName: 'user_account' })
export class User {
  [OptionalProps]?: 'createdAt' | 'marketingOptIn';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Field()
  @Property({ type: 'text' })
  name!: string;

  /** Lower-cased on the way in, so uniqueness is case-insensitive. */
  @Field()
  @Property({ type: 'text', unique: true })
  email!: string;

  @Field({
    nullable: true,
    description: 'When the email address was last proven by a link; null until then.',
  })
  @Property({ type: 'timestamptz', nullable: true })
  emailVerifiedAt?: Date;

  /** argon2id; absent for accounts that only sign in with OAuth. Never exposed by GraphQL. */
  @Property({ type: 'text', nullable: true, hidden: true })
  passwordHash?: string;

  /** When the person confirmed they are 16 or older (the service is not for children). */
  @Property({ type: 'timestamptz' })
  ageConfirmedAt!: Date;

  @Field({ description: 'The privacy policy version this person accepted.' })
  @Property({ type: 'text' })
  acceptedPolicyVersion!: string;

  @Property({ type: 'timestamptz' })
  policyAcceptedAt!: Date;

  @Field()
  @Property({ type: 'boolean' })
  marketingOptIn: boolean = false;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
