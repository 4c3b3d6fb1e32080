import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { Project } from '../workloads/project.entity.js';
import { Organization } from './organization.entity.js';
import { User } from './user.entity.js';

export enum ApiTokenScope {
  READ = 'READ',
  WRITE = 'WRITE',
  ADMIN = 'ADMIN',
}
registerEnumType(ApiTokenScope, {
  name: 'ApiTokenScope',
  description: 'READ: queries and subscriptions. WRITE: also changes. ADMIN: also organization settings.',
});

/** A credential for programs: acts as its creator, limited to one organization (or project) and its scopes. */
@ObjectType({ description: 'A credential for programs. Its secret is shown once, at creation.' })
@Entity({ tableName: 'api_token' })
export class ApiToken {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Field()
  @Property({ type: 'text' })
  name!: string;

  /** The first characters of the secret, shown so people can tell tokens apart. */
  @Field({ description: 'The first characters of the secret, to tell tokens apart.' })
  @Property({ type: 'text' })
  prefix!: string;

  @Property({ type: 'text', unique: true, hidden: true })
  tokenHash!: string;

  @Field(() => [ApiTokenScope])
  @Enum({ items: () => ApiTokenScope, array: true })
  scopes!: ApiTokenScope[];

  @ManyToOne(() => Organization, { deleteRule: 'cascade', index: true })
  organization!: Organization;

  @Field(() => Project, { nullable: true, description: 'Set when the token is limited to one project.' })
  @ManyToOne(() => Project, { deleteRule: 'cascade', nullable: true })
  project?: Project;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  createdBy!: User;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field({ nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt?: Date;

  @Field({ nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt?: Date;

  @Field({ nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date;
}
