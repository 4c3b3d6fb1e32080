import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { User } from './user.entity.js';

/** A signed-in browser. The cookie holds a random token; only its hash is stored here. */
@ObjectType({ description: 'A signed-in browser.' })
@Entity({ tableName: 'user_session' })
export class Session {
  [OptionalProps]?: 'createdAt' | 'lastSeenAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'text', unique: true, hidden: true })
  tokenHash!: string;

  @Field({ nullable: true, description: 'The IP address the session signed in from.' })
  @Property({ type: 'text', nullable: true })
  ip?: string;

  @Property({ type: 'text', nullable: true })
  userAgent?: string;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'timestamptz' })
  lastSeenAt: Date = new Date();

  /** The absolute end of the session, whatever its activity. */
  @Field()
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date;
}
