import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { PlanCode } from '../billing/plans.js';

/** Owns projects, members, credentials and the plan. */
@ObjectType({ description: 'Owns projects, members, credentials and a plan.' })
@Entity({ tableName: 'organization' })
export class Organization {
  [OptionalProps]?: 'plan' | 'personal' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Field()
  @Property({ type: 'text' })
  name!: string;

  /** The organization created for a user at sign-up. */
  @Field({ description: 'Created for one person at sign-up.' })
  @Property({ type: 'boolean' })
  personal: boolean = false;

  @Enum({ items: () => PlanCode })
  plan: PlanCode = PlanCode.FREE;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
