import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { ComputeEnvironment } from './compute-environment.entity.js';

export enum ComputeSpawnState {
  /** A cloud VM being created, or an agent registered but not yet connected. */
  PROVISIONING = 'PROVISIONING',
  /** Heartbeating within its lease: runs may be placed on it. */
  ONLINE = 'ONLINE',
  /** Stopped on purpose (agent shut down cleanly, or draining). */
  OFFLINE = 'OFFLINE',
  /** Silent past its lease: its runs went to ERROR(INFRA). */
  LOST = 'LOST',
  /** Retired for good (VM deleted, agent deregistered). */
  TERMINATED = 'TERMINATED',
}
registerEnumType(ComputeSpawnState, {
  name: 'ComputeSpawnState',
  description:
    'PROVISIONING: starting. ONLINE: heartbeating, takes runs. OFFLINE: stopped on purpose. ' +
    'LOST: silent past its lease (its runs failed as ERROR). TERMINATED: retired for good.',
});

/** One machine serving a compute environment: a self-hosted agent or a provisioned VM. */
@ObjectType({ description: 'One machine serving a compute environment: a self-hosted agent or a cloud VM.' })
@Entity({ tableName: 'compute_spawn' })
@Index({ properties: ['computeEnvironment', 'state'] })
export class ComputeSpawn {
  [OptionalProps]?: 'createdAt' | 'slotsUsed';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => ComputeEnvironment, { deleteRule: 'cascade' })
  computeEnvironment!: ComputeEnvironment;

  @Field(() => ComputeSpawnState)
  @Enum({ items: () => ComputeSpawnState, nativeEnumName: 'compute_spawn_state' })
  state!: ComputeSpawnState;

  /** The machine's name as the agent reports it. */
  @Field()
  @Property({ type: 'text' })
  hostname!: string;

  /** sha256 of the agent's own credential, issued at registration. */
  @Property({ type: 'text', nullable: true, unique: true, hidden: true })
  agentTokenHash?: string;

  @Field(() => Int, { description: 'Runs it takes at once.' })
  @Property({ type: 'integer' })
  slots!: number;

  /** As last reported by the agent's heartbeat. */
  @Field(() => Int, { description: 'Runs it reported busy at its last heartbeat.' })
  @Property({ type: 'integer' })
  slotsUsed: number = 0;

  @Field(() => Float, { nullable: true })
  @Property({ type: 'double', nullable: true })
  cpuCount?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true, fieldName: 'memory_mib' })
  memoryMiB?: number;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  providerInstanceId?: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  instanceType?: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  publicIpv4?: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  publicIpv6?: string;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastHeartbeatAt?: Date;

  /** The spawn is LOST when this passes without a heartbeat. */
  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  leaseExpiresAt?: Date;

  /** Since when no run has used it (cloud spawns retire after the queue's maxIdleSeconds). */
  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  idleSince?: Date;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
