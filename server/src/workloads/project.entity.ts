import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { Organization } from '../accounts/organization.entity.js';

/** Every workload resource belongs to a project; `code` is its slug, unique per organization. */
@ObjectType({ description: 'Groups job definitions, queues, compute environments and jobs.' })
@Entity({ tableName: 'project' })
@Unique({ properties: ['organization', 'code'] })
export class Project {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  @Field({ description: 'Slug, unique in the organization; used in references like `code::name`.' })
  @Property({ type: 'text' })
  code!: string;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
