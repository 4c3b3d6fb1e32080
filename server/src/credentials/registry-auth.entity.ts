import { Embedded, Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { User } from '../accounts/user.entity.js';
import { SealedSecret } from '../secrets/sealed-secret.js';
import { Project } from '../workloads/project.entity.js';

/** A container registry login, with which Docker job definitions pull private images. Immutable. */
@ObjectType({
  description:
    'A container registry login for pulling private images. Immutable: delete and recreate to change. ' +
    'The password is never returned; maskedSecret and fingerprint tell logins apart.',
})
@Entity({ tableName: 'registry_auth' })
@Unique({ properties: ['project', 'name'] })
export class RegistryAuth {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Field(() => Project)
  @ManyToOne(() => Project, { deleteRule: 'cascade' })
  project!: Project;

  @Field({ description: 'Unique in the project: letters, digits and hyphens, up to 64.' })
  @Property({ type: 'text' })
  name!: string;

  @Field({
    description:
      'The registry host (and port), e.g. ghcr.io or registry.example.com:5000; empty for Docker Hub.',
  })
  @Property({ type: 'text' })
  registryUrl!: string;

  @Field()
  @Property({ type: 'text' })
  username!: string;

  /** The password or access token, sealed. Never a @Field. */
  @Embedded(() => SealedSecret, { prefix: 'password_' })
  password!: SealedSecret;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  /** Kept when its creator's account goes: the login belongs to the project. */
  @ManyToOne(() => User, { deleteRule: 'set null', nullable: true })
  createdBy?: User;
}
