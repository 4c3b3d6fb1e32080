import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { User } from './user.entity.js';

/** The identity providers a person can sign in with. */
export enum AuthProvider {
  GITHUB = 'GITHUB',
  GOOGLE = 'GOOGLE',
}
registerEnumType(AuthProvider, { name: 'AuthProvider', description: 'An identity provider for sign-in.' });

/** A provider account (a GitHub or Google user) that signs in to a Daestro account. */
@ObjectType({ description: 'A GitHub or Google account that signs in to this Daestro account.' })
@Entity({ tableName: 'oauth_identity' })
@Unique({ properties: ['provider', 'providerUserId'] })
export class OAuthIdentity {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => User, { deleteRule: 'cascade', index: true })
  user!: User;

  @Field(() => AuthProvider)
  @Enum({ items: () => AuthProvider })
  provider!: AuthProvider;

  /** The provider's stable id for the person (GitHub's numeric id, Google's `sub`), never their email. */
  @Property({ type: 'text' })
  providerUserId!: string;

  @Field({ description: 'The verified address the provider gave when the account was linked.' })
  @Property({ type: 'text' })
  email!: string;

  @Field({ description: 'When it was linked.' })
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
