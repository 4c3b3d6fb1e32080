import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { Organization } from '../accounts/organization.entity.js';
import { User } from '../accounts/user.entity.js';

/** A security event (sign-in, password change, token or role change…), readable by organization admins. */
@ObjectType({ description: 'A recorded security event.' })
@Entity({ tableName: 'audit_event' })
@Index({ properties: ['organization', 'createdAt'] })
@Index({ properties: ['actor', 'createdAt'] })
export class AuditEvent {
  [OptionalProps]?: 'createdAt' | 'details';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  /** Absent for events about a person rather than an organization (e.g. a failed sign-in). */
  @ManyToOne(() => Organization, { deleteRule: 'cascade', nullable: true })
  organization?: Organization;

  @Field(() => User, { nullable: true, description: 'Who did it, when known.' })
  @ManyToOne(() => User, { deleteRule: 'cascade', nullable: true })
  actor?: User;

  @Field({ description: 'What happened, e.g. user.signed_in or api_token.created.' })
  @Property({ type: 'text' })
  action!: string;

  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  ip?: string;

  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  userAgent?: string;

  @Property({ type: 'jsonb' })
  details: Record<string, unknown> = {};

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
