import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { CloudAuth } from '../credentials/cloud-auth.entity.js';
import { Project } from './project.entity.js';

export enum ComputeEnvironmentKind {
  /** Agents the user runs on their own machines. */
  SELF_HOSTED = 'SELF_HOSTED',
  /** VMs Daestro starts with the user's cloud auth. */
  CLOUD = 'CLOUD',
}
registerEnumType(ComputeEnvironmentKind, {
  name: 'ComputeEnvironmentKind',
  description:
    'SELF_HOSTED: agents you run on your own machines. CLOUD: VMs Daestro starts with your cloud auth.',
});

/** Where runs are placed: a pool of spawns (agents or VMs). */
@ObjectType({ description: 'Where runs are placed: a pool of machines (self-hosted agents or cloud VMs).' })
@Entity({ tableName: 'compute_environment' })
@Unique({ properties: ['project', 'name'] })
export class ComputeEnvironment {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Project, { deleteRule: 'cascade' })
  project!: Project;

  @Field({ description: 'Unique in the project.' })
  @Property({ type: 'text' })
  name!: string;

  @Field(() => ComputeEnvironmentKind)
  @Enum({ items: () => ComputeEnvironmentKind, nativeEnumName: 'compute_environment_kind' })
  kind!: ComputeEnvironmentKind;

  /** SELF_HOSTED: how many runs one agent takes at once. CLOUD: runs per VM. */
  @Field(() => Int, { description: 'Runs one machine (agent or VM) takes at once.' })
  @Property({ type: 'integer' })
  slotsPerSpawn!: number;

  /** SELF_HOSTED: sha256 of the registration token agents present; the token is shown once. */
  @Property({ type: 'text', nullable: true, unique: true, hidden: true })
  registrationTokenHash?: string;

  /** SELF_HOSTED: the token's first characters, to tell rotations apart. */
  @Field(() => String, {
    nullable: true,
    description: "SELF_HOSTED: the registration token's first characters, to tell rotations apart.",
  })
  @Property({ type: 'text', nullable: true })
  registrationTokenPrefix?: string;

  /** CLOUD only. */
  @ManyToOne(() => CloudAuth, { nullable: true, deleteRule: 'restrict' })
  cloudAuth?: CloudAuth;

  @Field(() => String, { nullable: true, description: "CLOUD: the provider's region." })
  @Property({ type: 'text', nullable: true })
  region?: string;

  @Field(() => String, { nullable: true, description: "CLOUD: the provider's machine size." })
  @Property({ type: 'text', nullable: true })
  instanceType?: string;

  /** CLOUD: most VMs alive at once. */
  @Field(() => Int, { nullable: true, description: 'CLOUD: most VMs alive at once.' })
  @Property({ type: 'integer', nullable: true })
  maxSpawns?: number;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
