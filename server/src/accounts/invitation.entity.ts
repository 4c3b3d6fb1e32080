import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { MembershipRole } from './membership.entity.js';
import { Organization } from './organization.entity.js';
import { User } from './user.entity.js';

/** An emailed, single-use invitation to join an organization with a role. */
@ObjectType({ description: 'A pending invitation to join an organization.' })
@Entity({ tableName: 'invitation' })
@Index({ properties: ['organization', 'email'] })
export class Invitation {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  /** Lower-cased; only the account with this email may accept. */
  @Field()
  @Property({ type: 'text' })
  email!: string;

  @Field(() => MembershipRole)
  @Enum({ items: () => MembershipRole })
  role!: MembershipRole;

  @Property({ type: 'text', unique: true, hidden: true })
  tokenHash!: string;

  @Field(() => User, { description: 'Who sent it.' })
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  invitedBy!: User;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  acceptedAt?: Date;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date;
}
